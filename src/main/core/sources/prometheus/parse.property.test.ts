import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_BY_NAME, SERVER_NAME_PATTERN, STEP_MS } from '@shared/contract';
import {
  emptyMapped,
  mapSeries,
  parsePromResponse,
  parsePromValue,
  PromResponseError,
  serverNameFromInstance,
  toColumns,
  type PromSeries,
} from './parse';
import { defaultQueries, effectiveQueries } from './queries';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const opts = { instanceLabel: 'instance', profileLabel: null };

/** Prometheus's own text for a float. */
function promText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return Object.is(value, -0) ? '-0' : String(value);
}

function vector(items: { metric: Record<string, unknown>; value: unknown }[]): string {
  return JSON.stringify({ status: 'success', data: { resultType: 'vector', result: items } });
}

describe('parsePromResponse', () => {
  it('rejects a body that is not JSON, naming it', () => {
    expect(() => parsePromResponse('<html>502 Bad Gateway</html>')).toThrow(/response is not JSON: "<html>502/);
    expect(() => parsePromResponse('')).toThrow(PromResponseError);
  });

  it('turns any JSON into series or a PromResponseError, never another exception', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        try {
          const { series } = parsePromResponse(JSON.stringify(json));
          for (const s of series) for (const [t, v] of s.points) expect(typeof t === 'number' && typeof v === 'number').toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(PromResponseError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reports an error status with its type and message', () => {
    const body = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' });
    expect(() => parsePromResponse(body)).toThrow('Prometheus answered bad_data: parse error at char 5');
  });

  it('refuses a scalar result: it has no instance to map', () => {
    const body = JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [T0 / 1000, '1'] } });
    expect(() => parsePromResponse(body)).toThrow(/returns a scalar, not one series per instance/);
  });

  it('keeps every float Prometheus can write, NaN and ±Inf included, bit for bit', () => {
    fc.assert(
      fc.property(fc.double(), (value) => {
        const { series, problems } = parsePromResponse(vector([{ metric: { instance: 'a:1' }, value: [T0 / 1000, promText(value)] }]));
        expect(problems).toEqual([]);
        expect(Object.is(series[0]!.points[0]![1], value)).toBe(true);
      }),
    );
    expect(Object.is(parsePromValue('-0'), -0)).toBe(true);
  });

  it('skips a series whose value is not a number, with the reason, and keeps the others', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => parsePromValue(s) === null),
        (bad) => {
          const { series, problems } = parsePromResponse(
            vector([
              { metric: { instance: 'bad:9100' }, value: [T0 / 1000, bad] },
              { metric: { instance: 'good:9100' }, value: [T0 / 1000, '42'] },
            ]),
            'cpu_percent',
          );
          expect(series.map((s) => s.labels.instance)).toEqual(['good:9100']);
          expect(problems).toEqual([{ metric: 'cpu_percent', instance: 'bad:9100', reason: expect.stringMatching(/value is not a number/) }]);
        },
      ),
    );
    // Overflowing text is not silently +Inf.
    expect(parsePromValue('1e999')).toBeNull();
  });

  it('skips malformed points and labels with a reason', () => {
    const { series, problems } = parsePromResponse(
      vector([
        { metric: { instance: 'a:1' }, value: ['soon', '1'] },
        { metric: { instance: 'b:1' }, value: [T0 / 1000] },
        { metric: { instance: 'c:1', zone: 7 }, value: [T0 / 1000, '1'] },
      ]),
    );
    expect(series).toEqual([]);
    expect(problems.map((p) => p.reason)).toEqual([
      expect.stringMatching(/time is not a number/),
      expect.stringMatching(/not \[time, "value"\]/),
      'label "zone" is not a string',
    ]);
  });
});

describe('serverNameFromInstance', () => {
  it('maps any instance to a contract server name or says why not', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (instance) => {
        const mapped = serverNameFromInstance(instance);
        if ('name' in mapped) expect(mapped.name).toMatch(SERVER_NAME_PATTERN);
        else expect(mapped.error).toMatch(/instance label/);
      }),
      { numRuns: 2000 },
    );
  });

  it('strips the port, keeps the host', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9.-]{0,30}$/), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        expect(serverNameFromInstance(`${host}:${port}`)).toEqual({ name: host });
      }),
    );
    expect(serverNameFromInstance('[fe80::1]:9100')).toEqual({ name: 'fe80::1' });
    expect(serverNameFromInstance('https://ppweb001.example.com:8443/metrics')).toEqual({ name: 'ppweb001.example.com' });
    expect(serverNameFromInstance('db 01/prod:9100')).toEqual({ name: 'db-01-prod' });
    expect(serverNameFromInstance('x'.repeat(300))).toEqual({ name: 'x'.repeat(128) });
  });

  it('refuses instances with nothing usable', () => {
    expect(serverNameFromInstance('')).toEqual({ error: 'the instance label is empty' });
    expect(serverNameFromInstance('---:9100')).toMatchObject({ error: expect.stringMatching(/no character a server name may start with/) });
    expect(serverNameFromInstance('  ')).toMatchObject({ error: 'the instance label is empty' });
  });
});

describe('mapSeries', () => {
  const series = (instance: string, points: [number, number][], extra: Record<string, string> = {}): PromSeries => ({
    labels: { instance, ...extra },
    points,
  });

  it('keeps in-range values and non-finite ones, drops finite values outside the range with the range named', () => {
    fc.assert(
      fc.property(fc.double(), (value) => {
        const out = emptyMapped();
        mapSeries(out, 'cpu_percent', [series('ppdb001:9100', [[T0, value]])], opts);
        const kept = out.servers.get('ppdb001')?.rows.get(T0)?.cpu_percent;
        if (!Number.isFinite(value) || (value >= 0 && value <= 100)) {
          expect(Object.is(kept, value)).toBe(true);
          expect(out.dropped).toBe(0);
        } else {
          expect(kept).toBeUndefined();
          expect(out.dropped).toBe(1);
          expect(out.problems[0]!.reason).toBe(`value ${value} is outside cpu_percent's range 0..100 %`);
        }
      }),
    );
  });

  it('leaves a step a series does not have missing, never zero', () => {
    const out = emptyMapped();
    mapSeries(out, 'load_average', [series('web1:9100', [[T0, 1.5], [T0 + 2 * STEP_MS, 2.5]])], opts);
    mapSeries(out, 'memory_percent', [series('web1:9100', [[T0 + STEP_MS, 40]])], opts);
    const { batch } = toColumns(out);
    expect(Array.from(batch.timestamp)).toEqual([T0, T0 + STEP_MS, T0 + 2 * STEP_MS]);
    expect(Array.from(batch.metrics.load_average.present)).toEqual([1, 0, 1]);
    expect(Array.from(batch.metrics.memory_percent.present)).toEqual([0, 1, 0]);
    expect(Array.from(batch.metrics.cpu_percent.present)).toEqual([0, 0, 0]);
  });

  it('drops points off the 5-minute grid, series without the instance label, and name collisions, each with a reason', () => {
    const out = emptyMapped();
    mapSeries(
      out,
      'cpu_percent',
      [series('a:9100', [[T0 + 1000, 5]]), { labels: { job: 'node' }, points: [[T0, 1]] }, series('web:9100', [[T0, 1]]), series('web:9200', [[T0, 2]])],
      opts,
    );
    expect(out.problems.map((p) => p.reason)).toEqual([
      'the series has no "instance" label (aggregate "by (instance)")',
      `a point at ${new Date(T0 + 1000).toISOString()} is off the 5-minute grid`,
      'maps to server "web", already taken by instance "web:9100" (two series for one server)',
    ]);
    expect(out.servers.get('web')!.rows.get(T0)).toEqual({ cpu_percent: 1 });
    expect(out.dropped).toBe(3);
  });

  it('takes the profile from the name, or from the configured label when it names a profile', () => {
    const out = emptyMapped();
    mapSeries(out, 'cpu_percent', [series('ppml0001:9100', [[T0, 1]]), series('box1:9100', [[T0, 1]], { role: 'database' }), series('box2:9100', [[T0, 1]], { role: 'oracle' })], {
      instanceLabel: 'instance',
      profileLabel: 'role',
    });
    expect(toColumns(out).profiles).toEqual({ ppml0001: 'ml_compute', box1: 'database', box2: 'generic' });
    expect(out.problems.map((p) => p.reason)).toEqual(['label role="oracle" is not a profile; using "generic" from the name']);
  });
});

describe('default queries', () => {
  it('cover the eight node_exporter metrics in contract units, none for latency and errors', () => {
    const q = defaultQueries();
    expect(q.latency_ms).toBeNull();
    expect(q.error_rate).toBeNull();
    expect(q.cpu_percent).toContain('rate(node_cpu_seconds_total{mode="idle"}[5m])');
    expect(q.network_in_mbps).toContain('device!="lo"');
    expect(q.load_average).toBe('node_load1');
    for (const name of ['cpu_percent', 'memory_percent', 'disk_percent', 'iowait_percent', 'swap_percent'] as const) {
      expect(METRIC_BY_NAME[name].max).toBe(100);
      expect(q[name]).toMatch(/^clamp\(/);
    }
    expect(defaultQueries('host', 'role').cpu_percent).toContain('by (host, role)');
  });

  it('lets a configured query replace a default, null turn one off, and fill what has no default', () => {
    const q = effectiveQueries({ cpu_percent: null, latency_ms: 'histogram_quantile(0.95, x) * 1000' });
    expect(q.cpu_percent).toBeNull();
    expect(q.latency_ms).toBe('histogram_quantile(0.95, x) * 1000');
    expect(q.memory_percent).toBe(defaultQueries().memory_percent);
  });
});
