export * from './fleet';
export * from './health';
export * from './settings';
