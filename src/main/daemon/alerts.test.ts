import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, type EventMessage } from '@shared/contract';
import { STORE_FILE } from '../core/app';
import { AlertBook } from '../core/fleet/alerts';
import { AlertLog } from '../core/fleet/alerts-store';
import { bundledModelDir } from '../core/paths';
import { openStore } from '../core/store';
import { escapeLabel } from './metrics';
import { startTestDaemon } from './testing';

/**
 * Alerts and /metrics over the real HTTP server on port 0: a small simulated fleet, the committed
 * default model (cpu), a real SQLite store holding one open alert from an earlier run.
 */
const BUNDLED = bundledModelDir({ mainDir: resolve(__dirname, '..', '..', '..', 'out', 'main') });
const SEEDED = 'ppdb900';

/** An open critical alert on a server with no samples: every cycle skips it, so it stays as seeded. */
function seedAlert(dataDir: string): void {
  const store = openStore(join(dataDir, STORE_FILE));
  try {
    store.db
      .prepare("INSERT INTO servers (id, name, profile, first_seen, last_seen) VALUES (7, ?, 'database', 0, 0)")
      .run(SEEDED);
    const at = Date.now() - 3_600_000;
    const book = new AlertBook();
    const p50 = Array<number>(16).fill(99);
    const { opened } = book.apply({
      at,
      horizonTimes: Array.from({ length: 16 }, (_, k) => at + (k + 1) * 1_800_000),
      servers: [
        {
          server: SEEDED,
          profile: 'database',
          risk: 0.8,
          failureMode: 'disk',
          failureModes: { none: 0.2, disk: 0.8 },
          knownServer: true,
          coverage: 1,
          forecast: [{ metric: 'disk_percent', p10: p50, p50, p90: p50 }],
        },
      ],
    });
    new AlertLog(store).write(opened, new Map([[SEEDED, 7]]));
  } finally {
    store.close();
  }
}

/** The exposition format, line by line: a comment, or `name{labels} value`. */
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/;
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseExposition(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true);
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('#')) {
      expect(line, line).toMatch(COMMENT);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, line).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k!] = v!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = m![3] === '+Inf' ? Infinity : m![3] === '-Inf' ? -Infinity : Number(m![3]);
    expect(Number.isNaN(value) && m![3] !== 'NaN', line).toBe(false);
    samples.push({ name: m![1]!, labels, value });
  }
  return samples;
}

describe('alerts and /metrics over HTTP', () => {
  let env: Awaited<ReturnType<typeof startTestDaemon>>;
  beforeAll(async () => {
    env = await startTestDaemon(
      {},
      {
        simulator: { servers: 3, seed: 'alerts', speed: 1, backfillHours: 24 },
        model: { bundledDir: BUNDLED, provider: 'cpu', intraOpThreads: 1 },
      },
      seedAlert,
    );
    await env.core.ready();
    await env.core.predictionsIdle();
  });
  afterAll(async () => {
    await env?.stop();
  });

  const post = async (method: string, body: unknown) => {
    const response = await fetch(`${env.daemon.url}/api/rpc/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  it('GET /alerts/active answers the alert restored from the store', async () => {
    const response = await fetch(`${env.daemon.url}/alerts/active`);
    expect(response.status).toBe(200);
    const { alerts } = api['alerts.active'].output.parse(await response.json());
    const seeded = alerts.find((a) => a.server === SEEDED);
    expect(seeded).toMatchObject({
      id: 1,
      severity: 'critical',
      state: 'open',
      failureMode: 'disk',
      risk: 0.8,
      acknowledged: null,
      timeToThreshold: { metric: 'disk_percent', threshold: 95 },
    });
    // Critical first.
    expect(alerts[0]!.severity).toBe('critical');
  });

  it('acknowledges through /api/rpc, emits alerts.changed, stores who and when', async () => {
    const socket = new WebSocket(`${env.daemon.url.replace('http', 'ws')}/ws`);
    const messages: EventMessage[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as EventMessage));
    await new Promise((r, j) => {
      socket.once('open', r);
      socket.once('error', j);
    });
    try {
      const { status, body } = await post('alerts.acknowledge', { id: 1, by: 'alice' });
      expect(status).toBe(200);
      const alert = api['alerts.acknowledge'].output.parse(body);
      expect(alert).toMatchObject({ id: 1, state: 'open', acknowledged: { by: 'alice' } });
      const deadline = Date.now() + 5_000;
      while (!messages.some((m) => m.name === 'alerts.changed') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const changed = messages.find((m) => m.name === 'alerts.changed');
      expect(changed?.payload).toMatchObject({ acknowledged: 1, opened: 0, resolved: 0 });
    } finally {
      socket.close();
    }
    // Still open, still acknowledged by the first one to do it.
    expect((await post('alerts.acknowledge', { id: 1, by: 'bob' })).body).toMatchObject({
      acknowledged: { by: 'alice' },
    });
    const active = api['alerts.active'].output.parse((await post('alerts.active', {})).body);
    expect(active.alerts.find((a) => a.id === 1)?.acknowledged?.by).toBe('alice');

    const store = openStore(join(env.dataDir, STORE_FILE), { readonly: true });
    try {
      const row = store.db.prepare('SELECT state, acknowledged_at, payload FROM alerts WHERE id = 1').get() as {
        state: string;
        acknowledged_at: number | null;
        payload: Buffer;
      };
      expect(row.state).toBe('open');
      expect(row.acknowledged_at).toBe(Date.parse(alert1At(active.alerts)));
      expect(JSON.parse(row.payload.toString('utf8'))).toMatchObject({ acknowledgedBy: 'alice' });
    } finally {
      store.close();
    }
  });

  it('answers not_found for an alert that is not open', async () => {
    const { status, body } = await post('alerts.acknowledge', { id: 999 });
    expect(status).toBe(404);
    expect(body).toMatchObject({ code: 'not_found' });
  });

  it('GET /metrics answers the Prometheus text format: risk, forecasts, alerts, model, cycles', async () => {
    const response = await fetch(`${env.daemon.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await response.text());
    const named = (name: string) => samples.filter((s) => s.name === name);

    const risks = named('tftmp_incident_risk');
    expect(risks).toHaveLength(3);
    for (const r of risks) {
      expect(Object.keys(r.labels).sort()).toEqual(['profile', 'server']);
      expect(r.value).toBeGreaterThanOrEqual(0);
      expect(r.value).toBeLessThanOrEqual(1);
    }
    const forecasts = named('tftmp_forecast');
    // 3 servers x 5 target metrics x P50/P90 x +1 h/+4 h/+8 h.
    expect(forecasts).toHaveLength(3 * 5 * 2 * 3);
    expect(new Set(forecasts.map((f) => f.labels['horizon']))).toEqual(new Set(['1h', '4h', '8h']));
    expect(new Set(forecasts.map((f) => f.labels['quantile']))).toEqual(new Set(['0.5', '0.9']));
    const p50 = forecasts.find((f) => f.labels['quantile'] === '0.5')!;
    const p90 = forecasts.find(
      (f) =>
        f.labels['quantile'] === '0.9' &&
        f.labels['server'] === p50.labels['server'] &&
        f.labels['metric'] === p50.labels['metric'] &&
        f.labels['horizon'] === p50.labels['horizon'],
    )!;
    expect(p90.value).toBeGreaterThanOrEqual(p50.value);

    const bySeverity = Object.fromEntries(named('tftmp_alerts_active').map((s) => [s.labels['severity'], s.value]));
    expect(bySeverity['critical']).toBeGreaterThanOrEqual(1);
    expect(bySeverity['warning']).toBeGreaterThanOrEqual(0);
    const [info] = named('tftmp_model_info');
    expect(info).toMatchObject({ labels: { name: 'tft', provider: 'cpu' }, value: 1 });
    expect(info!.labels['version']).toMatch(/\S/);
    expect(named('tftmp_prediction_cycle_last_seconds')[0]!.value).toBeGreaterThan(0);
    expect(
      named('tftmp_prediction_cycles_total').find((s) => s.labels['outcome'] === 'ok')!.value,
    ).toBeGreaterThanOrEqual(1);
  });

  it('escapes label values as the format requires', () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});

function alert1At(alerts: readonly { id: number; acknowledged: { at: string } | null }[]): string {
  return alerts.find((a) => a.id === 1)!.acknowledged!.at;
}
