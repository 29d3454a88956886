export * from './ingest';
export * from './metrics-store';
export type { IncidentQuery } from './incidents';
export { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations';
// store-worker-bundled.ts (the `?nodeWorker` factory) is imported directly by the app: vitest cannot load it.
export * from './store-worker';
export type { StoreWorkerInit } from './worker-protocol';
