import { z } from 'zod';
import {
  AcknowledgeAlertSchema,
  ActiveAlertsSchema,
  AlertSchema,
  CurrentPredictionsSchema,
  ServerPredictionQuerySchema,
  ServerPredictionResultSchema,
  FleetServersSchema,
  FleetStatusSchema,
  HealthSchema,
  SettingsPatchSchema,
  SettingsSchema,
} from '../domain';

/**
 * A REST alias: a plain HTTP route that maps onto one method, for the seed's paths and for
 * tools like curl. Path parameters (`/predict/:server`) and the query string become the input.
 */
export interface RestAlias {
  method: 'GET';
  path: `/${string}`;
}

export interface MethodSpec {
  summary: string;
  input: z.ZodType;
  output: z.ZodType;
  rest?: RestAlias;
}

const NoInput = z.object({}).strict();

/**
 * Every call the core answers, declared once. Names are `domain.verb`. The IPC handler, the
 * HTTP route table and the in-process client all go through `dispatch`, which validates the
 * input against `input` here; the core's handler types are derived from this table.
 */
export const api = {
  'system.health': {
    summary: 'Liveness and what is running: app version, API version, uptime, active model, the prediction loop.',
    input: NoInput,
    output: HealthSchema,
    rest: { method: 'GET', path: '/health' },
  },
  'fleet.status': {
    summary: 'Fleet-level figures: servers known and reporting, newest sample, sources.',
    input: NoInput,
    output: FleetStatusSchema,
    rest: { method: 'GET', path: '/status' },
  },
  'fleet.servers': {
    summary:
      'Every server in the store: profile, state, newest metrics, whether it still reports, risk and failure mode.',
    input: NoInput,
    output: FleetServersSchema,
    rest: { method: 'GET', path: '/servers' },
  },
  'predictions.current': {
    summary:
      "The latest prediction cycle: every server's risk, failure mode and P10/P50/P90 forecast per target metric.",
    input: NoInput,
    output: CurrentPredictionsSchema,
    rest: { method: 'GET', path: '/predictions/current' },
  },
  'predictions.server': {
    summary:
      "One server's latest prediction (risk, failure mode, forecast bands), or why it has none; a server never seen in training is predicted through its profile. not_found for a server the store does not have.",
    input: ServerPredictionQuerySchema,
    output: ServerPredictionResultSchema,
    rest: { method: 'GET', path: '/predict/:server' },
  },
  'alerts.active': {
    summary:
      'Open alerts: servers whose risk crossed the warning or critical threshold, with failure mode, time to threshold and acknowledgement.',
    input: NoInput,
    output: ActiveAlertsSchema,
    rest: { method: 'GET', path: '/alerts/active' },
  },
  'alerts.acknowledge': {
    summary: 'Acknowledges an open alert (who, when); it stays open until the risk resolves it. Emits alerts.changed.',
    input: AcknowledgeAlertSchema,
    output: AlertSchema,
  },
  'settings.get': {
    summary: 'The user settings (theme, risk palette).',
    input: NoInput,
    output: SettingsSchema,
  },
  'settings.update': {
    summary: 'Changes some settings; returns all of them. Emits settings.changed.',
    input: SettingsPatchSchema,
    output: SettingsSchema,
  },
} as const satisfies Record<string, MethodSpec>;

export type Api = typeof api;
export type Method = keyof Api;
/** What a caller sends (before defaults are applied). */
export type Input<M extends Method> = z.input<Api[M]['input']>;
/** What a handler receives (after validation and defaults). */
export type ParsedInput<M extends Method> = z.output<Api[M]['input']>;
export type Output<M extends Method> = z.output<Api[M]['output']>;

export const METHODS = Object.keys(api) as Method[];

/** True only for the contract's own keys: `__proto__`, `constructor` and friends are not methods. */
export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);
}
