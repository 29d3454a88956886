import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, api, dispatch, type Method, type Output } from '@shared/contract';
import { DEMO_SCENARIOS, type Settings } from '@shared/domain';
import { createCore, STORE_FILE, type Core } from '../../src/main/core/app';
import { AlertBook } from '../../src/main/core/fleet/alerts';
import { AlertLog } from '../../src/main/core/fleet/alerts-store';
import { openStore } from '../../src/main/core/store';
import { createMemoryLogger } from '../../src/main/core/util/logger';
import { FUZZ_RUNS, Tally, fuzzTimeout } from './fuzz-kit';

/**
 * Stateful API fuzzing: random sequences of calls through `dispatch` (the one entry point HTTP
 * and IPC use) against one real core (a real SQLite file in a temp data dir, a small simulated
 * fleet, alerts restored from the store), checked against a model of what each call should do:
 *
 * - every call answers (output validated against the contract) or rejects with a client-side
 *   ApiError; `internal` or any other exception is a crash;
 * - an input the contract's schema refuses is `invalid_input` and changes nothing;
 * - after every call `system.health` still answers;
 * - acknowledged alerts stay acknowledged, by whoever acknowledged them first (in this run and
 *   every earlier one); unknown alert ids are `not_found`;
 * - settings read back what was written; sources and integrations list what was configured
 *   (tokens and secrets only as `tokenSet`/`secretSet`), removal of an unknown id is `not_found`;
 * - the demo's speed, pause and runs follow demo.run / demo.control / demo.reset; a store server
 *   the simulator does not drive is `conflict`;
 * - predictions.server answers for every server in the store, `not_found` for unknown names.
 *
 * The core is shared by all sequences (starting one per sequence would cost more than the
 * sequence); each sequence starts from a model read back from the core. Sequences: FUZZ_RUNS / 10
 * (20 in `npm test`, 1,000 under `npm run fuzz`), each of up to 25 calls plus a health check
 * after each.
 */

const SEQUENCES = Math.max(10, Math.round(FUZZ_RUNS / 10));
const MAX_COMMANDS = 25;
const ACCEPTED: ReadonlySet<string> = new Set(['invalid_input', 'not_found', 'conflict', 'unavailable']);

/** Store servers the simulator does not drive: each holds one open alert, restored at start. */
const SEEDED = ['ppdb900', 'ppdb901', 'ppdb902'];
/** New names demo.run may add to the simulated fleet (few, so the fleet stays small). */
const NEW_SERVERS = ['fzweb01', 'fzdb01', 'fz-ml.01'];
const UNKNOWN_SERVERS = ['nosuch01', 'ghost', 'x'.repeat(200)];
const SOURCE_IDS = ['prometheus', 'p1', 'edge-2'];
const INTEGRATION_IDS = ['am', 'hook', 'pd', 'slack-ops'];
/** A port nothing listens on: connections are refused at once. */
const REFUSING = ['http://127.0.0.1:1', 'http://127.0.0.1:1/prefix', 'http://user:pw@127.0.0.1:1'];

// ---------------------------------------------------------------------------------------------
// The model

interface SourceModel {
  tokenSet: boolean;
  enabled: boolean;
  backfillHours: number;
}
interface IntegrationModel {
  kind: 'alertmanager' | 'webhook' | 'slack' | 'pagerduty';
  enabled: boolean;
  minSeverity: 'warning' | 'critical';
  secretSet: boolean;
}
interface Model {
  settings: Settings;
  speed: number;
  paused: boolean;
  /** demo.state's runs: newest first, (server, scenario). */
  runs: { server: string; scenario: string }[];
  /** Servers the simulator drives. */
  simulated: Set<string>;
  /** Servers in the store (predictions.server answers for them). */
  stored: Set<string>;
  /** Open alert ids, and who acknowledged each (null: not yet). */
  alerts: Map<number, string | null>;
  sources: Map<string, SourceModel>;
  integrations: Map<string, IntegrationModel>;
}

interface Real {
  core: Core;
}

/** Who acknowledged each alert, across every sequence: the first acknowledgement sticks for good. */
const everAcknowledged = new Map<number, string>();

// ---------------------------------------------------------------------------------------------
// Calls

let dir: string;
let core: Core;
const internal: string[] = [];
const tally = new Tally('api-stateful');
let healthChecks = 0;
let commandsRun = 0;
/** Outcomes by method: `answered` or the error code. */
const byMethod: Record<string, Record<string, number>> = {};
function count(method: string, outcome: string): void {
  const m = (byMethod[method] ??= {});
  m[outcome] = (m[outcome] ?? 0) + 1;
}

type Outcome<M extends Method> = { ok: true; value: Output<M> } | { ok: false; code: string; message: string };

/**
 * One call through dispatch; a client-side ApiError is an outcome, anything else a crash (thrown).
 * `counted`: a fuzzed call (the figures), not a health check or a read of the start state.
 */
async function call<M extends Method>(method: M, input: unknown, counted = true): Promise<Outcome<M>> {
  const label = method as string;
  try {
    const value = (await dispatch(
      core,
      method,
      input,
      { transport: 'in-process' },
      {
        validateOutput: true,
        onInternalError: (m, e) => internal.push(`${m}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
      },
    )) as Output<M>;
    if (counted) {
      tally.succeeded();
      count(method, 'answered');
    }
    return { ok: true, value };
  } catch (error) {
    if (error instanceof ApiError && ACCEPTED.has(error.code)) {
      if (counted) {
        tally.rejected(`ApiError:${error.code}`);
        count(method, error.code);
      }
      return { ok: false, code: error.code, message: error.message };
    }
    const detail = error instanceof ApiError && error.code === 'internal' ? (internal.at(-1) ?? error.message) : error;
    tally.crashed(detail instanceof Error ? detail : new Error(String(detail)), `${label} ${show(input)}`);
    throw new Error(
      `${label} ${show(input)} -> ${error instanceof ApiError ? error.code : 'exception'}: ${String(detail)}`,
    );
  }
}

async function must<M extends Method>(method: M, input: unknown = {}, counted = true): Promise<Output<M>> {
  const out = await call(method, input, counted);
  if (!out.ok) throw new Error(`${method} ${show(input)} was refused (${out.code}): ${out.message}`);
  return out.value;
}

/** JSON, but with `undefined`, NaN and ±Infinity spelled out (JSON drops or nulls them). */
function show(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) =>
        v === undefined || (typeof v === 'number' && !Number.isFinite(v)) || typeof v === 'bigint'
          ? `<${String(v)}>`
          : v,
      ) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

/** Whether the contract's schema accepts the input (what dispatch checks first; it reads null and undefined as {}). */
function parse<M extends Method>(method: M, input: unknown): { ok: true; value: unknown } | { ok: false } {
  const parsed = api[method].input.safeParse(input === undefined || input === null ? {} : input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false };
}

function expectRejected(out: Outcome<Method>, code: string, what: string): void {
  expect(out.ok ? 'answered' : out.code, `${what}: expected ${code}`).toBe(code);
}

/** The invariant every command ends with: the core still answers system.health. */
async function healthy(): Promise<void> {
  const health = await must('system.health', {}, false);
  healthChecks++;
  expect(['ok', 'degraded']).toContain(health.status);
}

abstract class Command implements fc.AsyncCommand<Model, Real> {
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  async run(m: Model, _r: Real): Promise<void> {
    commandsRun++;
    await this.apply(m);
    await healthy();
  }
  protected abstract apply(m: Model): Promise<void>;
  abstract toString(): string;
}

// --- demo ------------------------------------------------------------------------------------

class DemoRun extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('demo.run', this.input);
    const out = await call('demo.run', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    const { server, scenario } = parsed.value as { server: string; scenario: string };
    if (!m.simulated.has(server) && m.stored.has(server)) return expectRejected(out, 'conflict', this.toString());
    expect(out.ok, `${this.toString()}: ${out.ok ? '' : out.message}`).toBe(true);
    if (!out.ok) return;
    m.simulated.add(server);
    m.runs.unshift({ server, scenario });
    expectDemo(m, out.value);
  }
  toString(): string {
    return `demo.run ${show(this.input)}`;
  }
}

class DemoControl extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('demo.control', this.input);
    const out = await call('demo.control', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    expect(out.ok, this.toString()).toBe(true);
    if (!out.ok) return;
    const { speed, paused } = parsed.value as { speed?: number; paused?: boolean };
    if (speed !== undefined) m.speed = speed;
    if (paused !== undefined) m.paused = paused;
    expectDemo(m, out.value);
  }
  toString(): string {
    return `demo.control ${show(this.input)}`;
  }
}

class DemoReset extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const out = await call('demo.reset', this.input);
    if (!parse('demo.reset', this.input).ok) return expectRejected(out, 'invalid_input', this.toString());
    expect(out.ok, this.toString()).toBe(true);
    if (!out.ok) return;
    m.runs = [];
    m.speed = 1;
    m.paused = false;
    expectDemo(m, out.value);
  }
  toString(): string {
    return `demo.reset ${show(this.input)}`;
  }
}

class DemoState extends Command {
  protected async apply(m: Model): Promise<void> {
    expectDemo(m, await must('demo.state'));
  }
  toString(): string {
    return 'demo.state';
  }
}

function expectDemo(m: Model, state: Output<'demo.state'>): void {
  expect(state.available).toBe(true);
  expect(state.speed).toBe(m.speed);
  expect(state.paused).toBe(m.paused);
  expect(state.runs.map((r) => ({ server: r.server, scenario: r.scenario }))).toEqual(m.runs);
  expect(new Set(state.servers.map((s) => s.name))).toEqual(m.simulated);
}

// --- alerts ----------------------------------------------------------------------------------

class Acknowledge extends Command {
  constructor(
    readonly pick: { kind: 'open'; index: number } | { kind: 'raw'; id: unknown },
    readonly by: unknown,
  ) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const open = [...m.alerts.keys()].sort((a, b) => a - b);
    const id =
      this.pick.kind === 'open' && open.length > 0
        ? open[this.pick.index % open.length]
        : this.pick.kind === 'raw'
          ? this.pick.id
          : 1_000_000;
    const input = this.by === undefined ? { id } : { id, by: this.by };
    const parsed = parse('alerts.acknowledge', input);
    const out = await call('alerts.acknowledge', input);
    const what = `alerts.acknowledge ${show(input)}`;
    if (!parsed.ok) return expectRejected(out, 'invalid_input', what);
    const { id: valid, by } = parsed.value as { id: number; by: string };
    if (!m.alerts.has(valid)) return expectRejected(out, 'not_found', what);
    expect(out.ok, what).toBe(true);
    if (!out.ok) return;
    const first = m.alerts.get(valid) ?? by;
    m.alerts.set(valid, first);
    if (!everAcknowledged.has(valid)) everAcknowledged.set(valid, first);
    expect(out.value.id).toBe(valid);
    expect(out.value.acknowledged?.by, `${what}: the first acknowledgement sticks`).toBe(first);
  }
  toString(): string {
    return `alerts.acknowledge ${show(this.pick)} by ${show(this.by)}`;
  }
}

class ActiveAlerts extends Command {
  protected async apply(m: Model): Promise<void> {
    expectAlerts(m, await must('alerts.active'));
  }
  toString(): string {
    return 'alerts.active';
  }
}

function expectAlerts(m: Model, active: Output<'alerts.active'>): void {
  expect(new Set(active.alerts.map((a) => a.id))).toEqual(new Set(m.alerts.keys()));
  for (const a of active.alerts) expect(a.acknowledged?.by ?? null, `alert ${a.id}`).toBe(m.alerts.get(a.id) ?? null);
}

// --- settings --------------------------------------------------------------------------------

class SettingsUpdate extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('settings.update', this.input);
    const out = await call('settings.update', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    expect(out.ok, this.toString()).toBe(true);
    if (!out.ok) return;
    // A field present but undefined means "not given" (as over HTTP, where JSON drops it).
    const given = Object.entries(parsed.value as Partial<Settings>).filter(([, v]) => v !== undefined);
    m.settings = { ...m.settings, ...(Object.fromEntries(given) as Partial<Settings>) };
    expect(out.value).toEqual(m.settings);
  }
  toString(): string {
    return `settings.update ${show(this.input)}`;
  }
}

class SettingsGet extends Command {
  protected async apply(m: Model): Promise<void> {
    expect(await must('settings.get')).toEqual(m.settings);
  }
  toString(): string {
    return 'settings.get';
  }
}

// --- sources ---------------------------------------------------------------------------------

class SourceConfigure extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('sources.configure', this.input);
    const out = await call('sources.configure', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    expect(out.ok, `${this.toString()}: ${out.ok ? '' : out.message}`).toBe(true);
    if (!out.ok) return;
    const c = parsed.value as { id: string; token?: string | null; enabled: boolean; backfillHours: number };
    const previous = m.sources.get(c.id);
    const tokenSet = c.token === undefined ? (previous?.tokenSet ?? false) : c.token !== null;
    m.sources.set(c.id, { tokenSet, enabled: c.enabled, backfillHours: c.backfillHours });
    expect(out.value).toMatchObject({ id: c.id, tokenSet, enabled: c.enabled, backfillHours: c.backfillHours });
    expect(out.value.url, 'never the password').not.toContain('pw@');
  }
  toString(): string {
    return `sources.configure ${show(this.input)}`;
  }
}

class SourceRemove extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('sources.remove', this.input);
    const out = await call('sources.remove', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    const { id } = parsed.value as { id: string };
    if (!m.sources.has(id)) return expectRejected(out, 'not_found', this.toString());
    expect(out.ok, this.toString()).toBe(true);
    m.sources.delete(id);
  }
  toString(): string {
    return `sources.remove ${show(this.input)}`;
  }
}

class SourcesList extends Command {
  protected async apply(m: Model): Promise<void> {
    expectSources(m, await must('sources.list'));
  }
  toString(): string {
    return 'sources.list';
  }
}

function expectSources(m: Model, list: Output<'sources.list'>): void {
  expect(new Set(list.sources.map((s) => s.id))).toEqual(new Set(m.sources.keys()));
  for (const s of list.sources) {
    expect({ tokenSet: s.tokenSet, enabled: s.enabled, backfillHours: s.backfillHours }, s.id).toEqual(
      m.sources.get(s.id),
    );
    expect(s.url).not.toContain('pw@');
  }
}

// --- integrations ----------------------------------------------------------------------------

class IntegrationConfigure extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('integrations.configure', this.input);
    const out = await call('integrations.configure', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    const c = parsed.value as {
      id: string;
      kind: IntegrationModel['kind'];
      enabled: boolean;
      minSeverity: IntegrationModel['minSeverity'];
      url?: string;
      routingKey?: string;
    };
    const previous = m.integrations.get(c.id);
    if (previous && previous.kind !== c.kind)
      return expectRejected(out, 'invalid_input', `${this.toString()} (kind change)`);
    if ((c.kind === 'webhook' || c.kind === 'slack') && !c.url && !previous)
      return expectRejected(out, 'invalid_input', `${this.toString()} (new without url)`);
    if (c.kind === 'pagerduty' && !c.routingKey && !previous?.secretSet)
      return expectRejected(out, 'invalid_input', `${this.toString()} (new without routingKey)`);
    expect(out.ok, `${this.toString()}: ${out.ok ? '' : out.message}`).toBe(true);
    if (!out.ok) return;
    const secretSet = c.kind !== 'alertmanager';
    m.integrations.set(c.id, { kind: c.kind, enabled: c.enabled, minSeverity: c.minSeverity, secretSet });
    expect(out.value).toMatchObject({
      id: c.id,
      kind: c.kind,
      enabled: c.enabled,
      minSeverity: c.minSeverity,
      secretSet,
    });
    expect(out.value.target, 'no secret in the target').not.toMatch(/pw@|routing|T0KEN/);
  }
  toString(): string {
    return `integrations.configure ${show(this.input)}`;
  }
}

class IntegrationRemove extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('integrations.remove', this.input);
    const out = await call('integrations.remove', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    const { id } = parsed.value as { id: string };
    if (!m.integrations.has(id)) return expectRejected(out, 'not_found', this.toString());
    expect(out.ok, this.toString()).toBe(true);
    m.integrations.delete(id);
  }
  toString(): string {
    return `integrations.remove ${show(this.input)}`;
  }
}

class IntegrationsList extends Command {
  protected async apply(m: Model): Promise<void> {
    expectIntegrations(m, await must('integrations.list'));
  }
  toString(): string {
    return 'integrations.list';
  }
}

function expectIntegrations(m: Model, list: Output<'integrations.list'>): void {
  expect(new Set(list.integrations.map((i) => i.id))).toEqual(new Set(m.integrations.keys()));
  for (const i of list.integrations) {
    expect({ kind: i.kind, enabled: i.enabled, minSeverity: i.minSeverity, secretSet: i.secretSet }, i.id).toEqual(
      m.integrations.get(i.id),
    );
  }
}

// --- predictions and models --------------------------------------------------------------------

class PredictServer extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(m: Model): Promise<void> {
    const parsed = parse('predictions.server', this.input);
    const out = await call('predictions.server', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    const { server } = parsed.value as { server: string };
    if (m.stored.has(server)) {
      expect(out.ok, this.toString()).toBe(true);
      // No model loads in this core: no prediction, and a reason.
      if (out.ok) expect(out.value.prediction === null ? out.value.unavailable : 'predicted').not.toBeNull();
    } else if (!m.simulated.has(server)) {
      // A server demo.run just added reaches the store with the simulator's next step: either answer.
      expectRejected(out, 'not_found', this.toString());
    }
  }
  toString(): string {
    return `predictions.server ${show(this.input)}`;
  }
}

class ModelList extends Command {
  protected async apply(_m: Model): Promise<void> {
    const list = await must('model.list');
    expect(Array.isArray(list.models)).toBe(true);
  }
  toString(): string {
    return 'model.list';
  }
}

class ModelCheck extends Command {
  constructor(readonly input: unknown) {
    super();
  }
  protected async apply(_m: Model): Promise<void> {
    const parsed = parse('model.check', this.input);
    const out = await call('model.check', this.input);
    if (!parsed.ok) return expectRejected(out, 'invalid_input', this.toString());
    // A valid request answers, or names the field that cannot be trained on (invalid_input).
    if (!out.ok) expect(out.code, this.toString()).toBe('invalid_input');
  }
  toString(): string {
    return `model.check ${show(this.input)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs: mostly valid and aimed at the state (ids that exist, servers the store has), some not.

/**
 * Wrong values for a field, `undefined` included: this fuzz found that `settings.update` with a
 * field present but undefined (`{ theme: undefined }`, which IPC's structured clone and the
 * in-process client carry, JSON does not) answered `internal`; SettingsStore.update now reads it
 * as "not given".
 */
const junk = fc.oneof(
  fc.constantFrom<unknown>(null, '', 0, -1, 1.5, 'yes', [], {}, Number.NaN, 1e12, 'x'.repeat(300), undefined),
  fc.anything({ maxDepth: 1 }),
);

/** Marks "a value from this field's bad pool". */
const BAD = Symbol('bad');

/**
 * An input object: its fields drawn from `good` (optional ones sometimes left out), then, about
 * one time in three, one defect: a field given a value from `bad` (or junk), a required field
 * left out, or a stray key.
 */
function shaped(
  good: Record<string, fc.Arbitrary<unknown>>,
  bad: Record<string, readonly unknown[]> = {},
  required: readonly string[] = [],
): fc.Arbitrary<unknown> {
  const keys = Object.keys(good);
  const defect = fc.oneof(
    { arbitrary: fc.constant({ kind: 'none' as const }), weight: 14 },
    {
      arbitrary: fc.record({
        kind: fc.constant('value' as const),
        key: fc.constantFrom(...keys),
        value: fc.oneof({ arbitrary: junk, weight: 1 }, { arbitrary: fc.constant<unknown>(BAD), weight: 3 }),
      }),
      weight: 4,
    },
    ...(required.length > 0
      ? [{ arbitrary: fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...required) }), weight: 1 }]
      : []),
    {
      arbitrary: fc.record({
        kind: fc.constant('stray' as const),
        key: fc.constantFrom('extra', '__proto__', 'constructor'),
      }),
      weight: 1,
    },
  );
  return fc.tuple(fc.record(good, { requiredKeys: [...required] }), defect, fc.nat()).map(([record, d, n]) => {
    const out: Record<string, unknown> = { ...record };
    if (d.kind === 'value') {
      const pool = bad[d.key] ?? [];
      out[d.key] = d.value !== BAD ? d.value : pool.length > 0 ? pool[n % pool.length] : null;
    } else if (d.kind === 'drop') {
      delete out[d.key];
    } else if (d.kind === 'stray') {
      Object.defineProperty(out, d.key, { value: 1, enumerable: true, configurable: true, writable: true });
    }
    return out;
  });
}

const serverName = (simulated: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...simulated), weight: 4 },
    { arbitrary: fc.constantFrom(...NEW_SERVERS), weight: 2 },
    { arbitrary: fc.constantFrom(...SEEDED), weight: 2 },
    { arbitrary: fc.constantFrom(...UNKNOWN_SERVERS), weight: 1 },
  );
const BAD_SERVER_NAMES = ['bad name!', '', 'a/b', 'x'.repeat(201)];

function commandsFor(simulated: string[]): fc.Arbitrary<Command>[] {
  const demoRun = shaped(
    {
      server: serverName(simulated),
      scenario: fc.constantFrom(...DEMO_SCENARIOS),
      precursorHours: fc.oneof(fc.constantFrom(0.5, 4, 12), fc.double({ min: 0.5, max: 12, noNaN: true })),
      profile: fc.constantFrom('web_api', 'database', 'ml_compute'),
    },
    { server: BAD_SERVER_NAMES, scenario: ['meltdown', ''], precursorHours: [0, 0.49, 12.5, -1], profile: ['nope'] },
    ['server', 'scenario'],
  );
  // Speeds up to 3600x are valid; most draws stay low so the simulator's steps do not swamp the loop.
  const demoControl = shaped(
    {
      speed: fc.oneof(fc.constantFrom(1, 2, 60, 300, 3600), fc.double({ min: 1, max: 600, noNaN: true })),
      paused: fc.boolean(),
    },
    { speed: [0, 0.5, 3601, -1, Infinity], paused: ['yes', 1] },
  );
  const acknowledge = fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.nat(10).map((index) => ({ kind: 'open' as const, index })), weight: 4 },
        {
          arbitrary: fc
            .oneof(fc.integer({ min: -2, max: 12 }), fc.constantFrom<unknown>(999_999, 2 ** 31, 1.5, '1', null))
            .map((id) => ({ kind: 'raw' as const, id })),
          weight: 2,
        },
      ),
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: fc.constantFrom<unknown>('alice', 'on-call team', ' bob '), weight: 3 },
        { arbitrary: fc.constantFrom<unknown>('', '   ', 'x'.repeat(101), 7), weight: 1 },
      ),
    )
    .map(([pick, by]) => new Acknowledge(pick, by));
  const settingsPatch = shaped(
    { theme: fc.constantFrom('dark', 'light'), riskPalette: fc.constantFrom('standard', 'colorblind') },
    { theme: ['blue', ''], riskPalette: ['sepia'] },
  );
  const sourceInput = shaped(
    {
      id: fc.constantFrom(...SOURCE_IDS),
      kind: fc.constant('prometheus'),
      url: fc.constantFrom(...REFUSING),
      token: fc.constantFrom(null, 's3cr3t-T0KEN'),
      queries: fc.constantFrom({}, { cpu_percent: 'up' }, { latency_ms: null }),
      backfillHours: fc.constantFrom(0, 1, 2),
      timeoutMs: fc.constantFrom(100, 500),
      pollSeconds: fc.constantFrom(60, 3600),
      enabled: fc.boolean(),
    },
    {
      id: ['Bad Id', '-x', ''],
      kind: ['influx'],
      url: ['ftp://127.0.0.1/', 'not a url', ''],
      token: ['', 42],
      queries: [{ bogus: 'x' }, { cpu_percent: '' }],
      backfillHours: [200, -1],
      timeoutMs: [50, 1.5],
      pollSeconds: [0, 3601],
      enabled: ['yes'],
    },
    ['url'],
  );
  const sourceRef = shaped({ id: fc.constantFrom(...SOURCE_IDS, 'nosuch') }, { id: ['Bad Id', ''] }, ['id']);
  const integrationInput = fc.constantFrom('alertmanager', 'webhook', 'slack', 'pagerduty').chain((kind) =>
    shaped(
      {
        kind: fc.constant(kind),
        id: fc.constantFrom(...INTEGRATION_IDS),
        enabled: fc.boolean(),
        minSeverity: fc.constantFrom('warning', 'critical'),
        timeoutMs: fc.constantFrom(100, 1000),
        url: fc.constantFrom(...REFUSING),
        ...(kind === 'pagerduty' ? { routingKey: fc.constant('routing-key-1') } : {}),
      },
      {
        kind: ['email'],
        id: ['Bad Id'],
        minSeverity: ['info'],
        timeoutMs: [99, 60_001],
        url: ['ftp://x', ''],
        routingKey: [' ', ''],
      },
      kind === 'alertmanager' ? ['kind', 'id', 'url'] : ['kind', 'id'],
    ),
  );
  const integrationRef = shaped({ id: fc.constantFrom(...INTEGRATION_IDS, 'nosuch') }, { id: ['Bad Id'] }, ['id']);
  const predictInput = shaped({ server: serverName(simulated) }, { server: BAD_SERVER_NAMES }, ['server']);
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const now = new Date().toISOString();
  const modelCheck = fc.oneof(
    { arbitrary: junk, weight: 1 },
    {
      weight: 3,
      arbitrary: shaped(
        {
          data: fc.oneof(
            shaped(
              {
                kind: fc.constant('simulated'),
                // Small: a valid check generates this fleet in memory.
                servers: fc.constantFrom(1, 2),
                days: fc.constant(2),
                seed: fc.constant('fuzz'),
              },
              { servers: [0, 201], days: [61, 1], seed: [''] },
              ['kind', 'servers', 'days'],
            ),
            shaped(
              {
                kind: fc.constant('store'),
                from: fc.constantFrom(hourAgo, now, '2020-01-01T00:00:00Z'),
                to: fc.constantFrom(now, hourAgo, '2030-01-01T00:00:00Z'),
              },
              { from: ['yesterday'], to: [''] },
              ['kind', 'from', 'to'],
            ),
          ),
        },
        {},
        ['data'],
      ),
    },
  );
  const noInput = fc.oneof(
    { arbitrary: fc.constant({}), weight: 9 },
    { arbitrary: fc.constantFrom<unknown>({ x: 1 }, null, []), weight: 1 },
  );

  return [
    demoRun.map((input) => new DemoRun(input)),
    demoControl.map((input) => new DemoControl(input)),
    noInput.map((input) => new DemoReset(input)),
    fc.constant(new DemoState()),
    acknowledge,
    fc.constant(new ActiveAlerts()),
    settingsPatch.map((input) => new SettingsUpdate(input)),
    fc.constant(new SettingsGet()),
    sourceInput.map((input) => new SourceConfigure(input)),
    sourceRef.map((input) => new SourceRemove(input)),
    fc.constant(new SourcesList()),
    integrationInput.map((input) => new IntegrationConfigure(input)),
    integrationRef.map((input) => new IntegrationRemove(input)),
    fc.constant(new IntegrationsList()),
    predictInput.map((input) => new PredictServer(input)),
    fc.constant(new ModelList()),
    modelCheck.map((input) => new ModelCheck(input)),
  ];
}

// ---------------------------------------------------------------------------------------------
// Set-up: a real core on a real SQLite file, with open alerts in its store

/** Open alerts on servers with no samples, written to the store before the core opens it. */
function seedAlerts(dataDir: string): void {
  const store = openStore(join(dataDir, STORE_FILE));
  try {
    const at = Date.now() - 3_600_000;
    const book = new AlertBook();
    const ids = new Map<string, number>();
    SEEDED.forEach((server, i) => {
      const id = 900 + i;
      store.db
        .prepare("INSERT INTO servers (id, name, profile, first_seen, last_seen) VALUES (?, ?, 'database', 0, 0)")
        .run(id, server);
      ids.set(server, id);
    });
    const p50 = Array<number>(16).fill(99);
    const { opened } = book.apply({
      at,
      horizonTimes: Array.from({ length: 16 }, (_, k) => at + (k + 1) * 1_800_000),
      servers: SEEDED.map((server, i) => ({
        server,
        profile: 'database' as const,
        risk: 0.6 + i * 0.1,
        failureMode: 'disk' as const,
        failureModes: { none: 0.3, disk: 0.7 },
        knownServer: true,
        coverage: 1,
        forecast: [{ metric: 'disk_percent' as const, p10: p50, p50, p90: p50 }],
      })),
    });
    new AlertLog(store).write(opened, ids);
  } finally {
    store.close();
  }
}

/** The model of a sequence's start, read back from the core (which earlier sequences changed). */
async function modelFromCore(): Promise<Model> {
  const [settings, demo, active, sources, integrations, servers] = [
    await must('settings.get', {}, false),
    await must('demo.state', {}, false),
    await must('alerts.active', {}, false),
    await must('sources.list', {}, false),
    await must('integrations.list', {}, false),
    await must('fleet.servers', {}, false),
  ];
  // Acknowledgements of earlier sequences are still there, by the same name.
  for (const [id, by] of everAcknowledged) {
    const alert = active.alerts.find((a) => a.id === id);
    expect(alert?.acknowledged?.by, `alert ${id} stays acknowledged across sequences`).toBe(by);
  }
  return {
    settings,
    speed: demo.speed,
    paused: demo.paused,
    runs: demo.runs.map((r) => ({ server: r.server, scenario: r.scenario })),
    simulated: new Set(demo.servers.map((s) => s.name)),
    stored: new Set([...servers.servers.map((s) => s.name), ...SEEDED]),
    alerts: new Map(active.alerts.map((a) => [a.id, a.acknowledged?.by ?? null])),
    sources: new Map(
      sources.sources.map((s) => [s.id, { tokenSet: s.tokenSet, enabled: s.enabled, backfillHours: s.backfillHours }]),
    ),
    integrations: new Map(
      integrations.integrations.map((i) => [
        i.id,
        { kind: i.kind, enabled: i.enabled, minSeverity: i.minSeverity, secretSet: i.secretSet },
      ]),
    ),
  };
}

let initialSimulated: string[] = [];

/** A core on the data dir (its SQLite store, settings, sources and integrations files). */
async function openCore(): Promise<Core> {
  // An empty model folder: the predictor reports it (no cycles, so no new alerts and none
  // resolved) but keeps its alert book, restored from the store, for acknowledgements to act on.
  const noModel = join(dir, 'no-model');
  mkdirSync(noModel, { recursive: true });
  const opened = createCore({
    dataDir: dir,
    runtime: 'test',
    logger: createMemoryLogger(),
    heartbeatMs: 0,
    simulator: { servers: 4, seed: 'fuzz-stateful', speed: 1, backfillHours: 1 },
    model: { bundledDir: noModel, provider: 'cpu', intervalMs: 0 },
    sourceBackoffMs: 60_000,
    integrationBackoffMs: 60_000,
  });
  await opened.ready();
  return opened;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tftmp-fuzz-stateful-'));
  seedAlerts(dir);
  core = await openCore();
  initialSimulated = (await must('demo.state', {}, false)).servers.map((s) => s.name);
}, 120_000);

afterAll(async () => {
  tally.save();
  await core?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fuzz: stateful API sequences through dispatch', () => {
  it(
    `${SEQUENCES} sequences of up to ${MAX_COMMANDS} calls against a model: typed rejections only, state as written`,
    async () => {
      expect(initialSimulated.length).toBe(4);
      const start = await modelFromCore();
      expect(start.alerts.size).toBe(SEEDED.length);
      await fc.assert(
        fc.asyncProperty(
          fc.commands(commandsFor(initialSimulated), { maxCommands: MAX_COMMANDS, size: 'max' }),
          async (commands) => {
            await fc.asyncModelRun(async () => ({ model: await modelFromCore(), real: { core } }), commands);
          },
        ),
        { numRuns: SEQUENCES },
      );
      // Everything the sequences did, checked once more from scratch, then after a restart on the
      // same data dir: settings, sources, integrations and acknowledgements are on disk.
      const end = await modelFromCore();
      expect(end.alerts.size).toBe(SEEDED.length);
      await core.close();
      core = await openCore();
      const restarted = await modelFromCore();
      expect(restarted.settings).toEqual(end.settings);
      expect(restarted.sources).toEqual(end.sources);
      expect(restarted.integrations).toEqual(end.integrations);
      expect(restarted.alerts).toEqual(end.alerts);
      expect(tally.crashes).toBe(0);
      // One fuzzed call per command, and a health check after each.
      expect(tally.cases).toBe(commandsRun);
      expect(healthChecks).toBe(commandsRun);
      console.log(
        `stateful API fuzz: ${SEQUENCES} sequences, ${tally.cases} fuzzed calls ` +
          `(${tally.ok} answered, ${JSON.stringify(tally.rejections)}), ${healthChecks} health checks after them, ` +
          `${everAcknowledged.size} alerts acknowledged, ${tally.crashes} crashes\n${JSON.stringify(byMethod)}`,
      );
    },
    fuzzTimeout(40, 60_000),
  );
});
