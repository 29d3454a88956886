import { describe, expect, it } from 'vitest';
import { METRIC_BY_NAME, METRIC_NAMES, PROFILES, SERVER_STATES, STEP_MS } from '@shared/contract';
import { INCIDENT_TYPES, type SampleColumns } from '@shared/domain';
import { concatColumns } from '../columns';
import { defaultFleet, FleetSimulator } from './fleet-sim';
import { generateFleet } from './generate';
import { cascadeChance, dependencyPressure, DEFAULT_RATES, DRIVING_METRIC } from './server-sim';

const START = Date.UTC(2026, 0, 5); // a Monday
const fleet20 = generateFleet({ seed: 7, start: START, servers: defaultFleet(20), hours: 24 * 14 });

function rowsOf(columns: SampleColumns, server: string): number[] {
  const rows: number[] = [];
  for (let i = 0; i < columns.length; i++) if (columns.server[i] === server) rows.push(i);
  return rows;
}

function seriesOf(columns: SampleColumns, server: string, metric: (typeof METRIC_NAMES)[number]): number[] {
  return rowsOf(columns, server).map((r) => (columns.metrics[metric].present[r] ? columns.metrics[metric].values[r]! : NaN));
}

describe('defaultFleet', () => {
  it('names servers like the seed, with every profile present', () => {
    const servers = defaultFleet(20);
    expect(servers).toHaveLength(20);
    expect(servers.map((s) => s.name)).toContain('ppml0001');
    expect(new Set(servers.map((s) => s.name)).size).toBe(20);
    const fleet = new FleetSimulator({ seed: 1, start: START, servers });
    expect(new Set(fleet.mapping.entries().map((e) => e.profile))).toEqual(new Set(PROFILES));
  });

  it.each([1, 3, 7, 50, 1000])('builds a fleet of exactly %i servers', (n) => {
    expect(defaultFleet(n)).toHaveLength(n);
  });
});

describe('generateFleet', () => {
  it('is deterministic for a seed, and another seed gives other data', () => {
    const again = generateFleet({ seed: 7, start: START, servers: defaultFleet(20), hours: 24 * 14 });
    expect(Buffer.from(again.columns.metrics.cpu_percent.values.buffer)).toEqual(
      Buffer.from(fleet20.columns.metrics.cpu_percent.values.buffer),
    );
    expect(again.incidents).toEqual(fleet20.incidents);
    const other = generateFleet({ seed: 8, start: START, servers: defaultFleet(20), hours: 24 });
    expect(seriesOf(other.columns, 'ppml0001', 'cpu_percent').slice(0, 50)).not.toEqual(
      seriesOf(fleet20.columns, 'ppml0001', 'cpu_percent').slice(0, 50),
    );
  });

  it('one row per server per 5-minute step, on the grid', () => {
    const { columns } = fleet20;
    expect(columns.length).toBe(20 * 12 * 24 * 14);
    for (let i = 0; i < columns.length; i += 997) expect(columns.timestamp[i]! % STEP_MS).toBe(0);
    const ts = rowsOf(columns, 'ppdb001').map((r) => columns.timestamp[r]!);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(STEP_MS);
  });

  it('keeps every value inside the contract ranges and every state in the contract', () => {
    const { columns } = fleet20;
    const violations: string[] = [];
    for (const name of METRIC_NAMES) {
      const { min, max } = METRIC_BY_NAME[name];
      const col = columns.metrics[name];
      for (let i = 0; i < columns.length; i++) {
        const v = col.values[i]!;
        if (col.present[i] && !(Number.isFinite(v) && v >= min && v <= max)) violations.push(`${name}[${i}] = ${v}`);
      }
    }
    expect(violations).toEqual([]);
    expect(new Set(columns.state).size).toBeGreaterThan(4);
    for (const s of new Set(columns.state)) expect(SERVER_STATES).toContain(s);
  });

  it('leaves unreported metrics missing (not zero) and marks offline rows entirely missing', () => {
    const { columns } = fleet20;
    // generic servers do not report latency.
    for (const r of rowsOf(columns, 'ppsvc001')) expect(columns.metrics.latency_ms.present[r]).toBe(0);
    const offline = [...columns.state.keys()].filter((i) => columns.state[i] === 'offline');
    for (const r of offline) for (const m of METRIC_NAMES) expect(columns.metrics[m].present[r]).toBe(0);
  });

  it('labels incidents: the driving metric goes critical at onset, and precursors build up before it', () => {
    const { columns, incidents } = fleet20;
    expect(incidents.length).toBeGreaterThan(10);
    for (const incident of incidents) {
      expect(INCIDENT_TYPES).toContain(incident.type);
      expect(incident.metric).toBe(DRIVING_METRIC[incident.type]);
      expect(incident.end).toBeGreaterThan(incident.onset);
      expect(incident.precursor).toBe(incident.precursorStart !== null);
      if (incident.precursorStart !== null) expect(incident.onset - incident.precursorStart).toBeGreaterThanOrEqual(30 * 60_000);
      const rows = rowsOf(columns, incident.server).filter(
        (r) => columns.timestamp[r]! >= incident.onset && columns.timestamp[r]! < incident.end,
      );
      const critical = METRIC_BY_NAME[incident.metric].critical!;
      const values = rows.filter((r) => columns.metrics[incident.metric].present[r]).map((r) => columns.metrics[incident.metric].values[r]!);
      if (values.length > 0 && incident.end <= fleet20.end) {
        expect(Math.max(...values), `${incident.id} ${incident.type}`).toBeGreaterThanOrEqual(critical);
      }
      expect(rows.some((r) => columns.state[r] === 'critical_issue')).toBe(true);
    }
  });

  it('has about 30% sudden incidents over a large fleet, and every incident type', () => {
    const big = generateFleet({ seed: 3, start: START, servers: defaultFleet(60), hours: 24 * 21 });
    const sudden = big.incidents.filter((i) => !i.precursor).length / big.incidents.length;
    expect(sudden).toBeGreaterThan(0.2);
    expect(sudden).toBeLessThan(0.45);
    expect(new Set(big.incidents.map((i) => i.type))).toEqual(new Set(INCIDENT_TYPES));
    // Cascades name the server they came from.
    for (const i of big.incidents.filter((x) => x.type === 'cascading_failure')) expect(i.cause).toMatch(/^ppdb/);
  });

  describe('cascading failures', () => {
    const HOUR = 3_600_000;
    const servers = defaultFleet(100);
    const month = generateFleet({ seed: 11, start: START, servers, hours: 24 * 30 });
    const wiring = new FleetSimulator({ seed: 11, start: START, servers });
    const cascades = month.incidents.filter((i) => i.type === 'cascading_failure');
    const causes = month.incidents.filter((i) => i.server.startsWith('ppdb'));
    const rows = new Map<string, number[]>();
    for (let i = 0; i < month.columns.length; i++) {
      const name = month.columns.server[i]!;
      let list = rows.get(name);
      if (!list) rows.set(name, (list = []));
      list.push(i);
    }
    /** Mean of a metric over [from, to) on one server. */
    const mean = (server: string, metric: 'error_rate' | 'latency_ms' | 'cpu_percent', from: number, to: number): number => {
      const m = month.columns.metrics[metric];
      const first = Math.max(0, Math.ceil((from - START) / STEP_MS));
      const last = Math.min(rows.get(server)!.length, Math.ceil((to - START) / STEP_MS));
      let sum = 0;
      let n = 0;
      for (const i of rows.get(server)!.slice(first, last)) {
        if (m.present[i]) {
          sum += m.values[i]!;
          n++;
        }
      }
      return sum / n;
    };

    it('a dependent fails more often when it is busy: the chance scales with its load, around the configured one', () => {
      const p = DEFAULT_RATES.cascadeProbability;
      expect(cascadeChance(p, 0.44)).toBeCloseTo(p, 10);
      expect(cascadeChance(p, 0.1)).toBeLessThan(p / 2);
      expect(cascadeChance(p, 0.9)).toBeGreaterThan(1.8 * p);
      expect(cascadeChance(p, 0)).toBeGreaterThanOrEqual(0.02);
      expect(cascadeChance(1, 1)).toBeLessThanOrEqual(0.95);
      expect(dependencyPressure(0, 1)).toBe(0);
      // Every (database incident, dependent) pair of a month: the busier half of the dependents
      // (CPU over the half hour before the database went critical) cascaded more often.
      const pairs: { cpu: number; cascaded: boolean }[] = [];
      for (const db of causes) {
        for (const s of servers.filter((x) => wiring.dependencyOf(x.name) === db.server)) {
          const cascaded = cascades.some((c) => c.server === s.name && c.cause === db.server && c.onset >= db.onset && c.onset - db.onset <= HOUR);
          pairs.push({ cpu: mean(s.name, 'cpu_percent', db.onset - HOUR / 2, db.onset), cascaded });
        }
      }
      const valid = pairs.filter((x) => Number.isFinite(x.cpu)).sort((a, b) => a.cpu - b.cpu);
      expect(valid.length).toBeGreaterThan(100);
      const share = (xs: typeof valid): number => xs.filter((x) => x.cascaded).length / xs.length;
      const half = Math.floor(valid.length / 2);
      expect(share(valid.slice(half))).toBeGreaterThan(1.5 * share(valid.slice(0, half)));
      // About the configured chance over all pairs (dependents already failing are not counted twice).
      expect(share(valid)).toBeGreaterThan(0.25);
      expect(share(valid)).toBeLessThan(0.45);
    });

    it("a dependent's calls time out while its dependency strains: errors and latency rise before it cascades", () => {
      const ratios = { error_rate: [] as number[], latency_ms: [] as number[] };
      for (const c of cascades.filter((x) => x.precursor && x.onset - 25 * HOUR >= START)) {
        for (const metric of ['error_rate', 'latency_ms'] as const) {
          // 60 to 30 minutes before onset, against the same half hour the day before.
          ratios[metric].push(mean(c.server, metric, c.onset - HOUR, c.onset - HOUR / 2) / mean(c.server, metric, c.onset - 25 * HOUR, c.onset - 24.5 * HOUR));
        }
      }
      expect(ratios.error_rate.length).toBeGreaterThanOrEqual(20);
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      expect(median(ratios.error_rate)).toBeGreaterThan(1.5);
      expect(median(ratios.latency_ms)).toBeGreaterThan(1.3);
    });
  });

  it('has daily seasonality: web servers are busier at 14:00 than at 03:00 on weekdays', () => {
    const { columns } = fleet20;
    const at = (hour: number): number[] =>
      rowsOf(columns, 'ppweb001')
        .filter((r) => {
          const d = new Date(columns.timestamp[r]!);
          return d.getUTCHours() === hour && d.getUTCDay() >= 1 && d.getUTCDay() <= 5 && columns.state[r] !== 'critical_issue';
        })
        .map((r) => columns.metrics.cpu_percent.values[r]!);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(at(14))).toBeGreaterThan(mean(at(3)) + 15);
  });
});

describe('FleetSimulator', () => {
  it('live stepping produces exactly the batch output', () => {
    const live = new FleetSimulator({ seed: 7, start: START, servers: defaultFleet(20) });
    const steps: SampleColumns[] = [];
    for (let i = 0; i < 12 * 24; i++) steps.push(live.step());
    const batch = generateFleet({ seed: 7, start: START, servers: defaultFleet(20), hours: 24 });
    const joined = concatColumns(steps);
    expect(joined.server).toEqual(batch.columns.server);
    expect(Buffer.from(joined.metrics.memory_percent.values.buffer)).toEqual(Buffer.from(batch.columns.metrics.memory_percent.values.buffer));
  });

  it('adding a server does not change an independent server', () => {
    const a = generateFleet({ seed: 5, start: START, servers: [{ name: 'ppml0001' }, { name: 'ppdb001' }], hours: 48 });
    const b = generateFleet({
      seed: 5,
      start: START,
      servers: [{ name: 'ppml0001' }, { name: 'ppdb001' }, { name: 'ppml0077' }, { name: 'ppweb001' }],
      hours: 48,
    });
    for (const server of ['ppml0001', 'ppdb001']) {
      expect(seriesOf(b.columns, server, 'memory_percent')).toEqual(seriesOf(a.columns, server, 'memory_percent'));
    }
  });

  it('plays a forced scenario: a memory leak builds up for the given hours, then goes critical', () => {
    const sim = new FleetSimulator({ seed: 1, start: START, servers: [{ name: 'ppml0001' }], rates: { incidentsPerWeek: 0, benignPerWeek: 0 } });
    sim.force('ppml0001', { type: 'memory_leak', precursorHours: 3 });
    const memory: number[] = [];
    const states: (string | null)[] = [];
    for (let i = 0; i < 12 * 4; i++) {
      const row = sim.step();
      memory.push(row.metrics.memory_percent.values[0]!);
      states.push(row.state[0]!);
    }
    expect(sim.incidents).toHaveLength(1);
    expect(sim.incidents[0]).toMatchObject({ type: 'memory_leak', precursor: true, onset: START + 3 * 3_600_000 });
    expect(memory[35]!).toBeGreaterThan(memory[0]! + 20);
    expect(states[36]).toBe('critical_issue');
    expect(states.slice(0, 30)).not.toContain('critical_issue');
  });

  it('refuses a duplicate server and an unknown one', () => {
    const sim = new FleetSimulator({ seed: 1, start: START, servers: [{ name: 'ppml0001' }] });
    expect(() => sim.addServer({ name: 'ppml0001' })).toThrow(/already/);
    expect(() => sim.force('nope', { type: 'disk_fill', precursorHours: 1 })).toThrow(/No server "nope"/);
  });
});
