import { describe, expect, it } from 'vitest';
import { METRIC_BY_NAME, METRIC_NAMES, PROFILES, SERVER_STATES, STEP_MS } from '@shared/contract';
import { INCIDENT_TYPES, type SampleColumns } from '@shared/domain';
import { concatColumns } from '../columns';
import { defaultFleet, FleetSimulator } from './fleet-sim';
import { generateFleet } from './generate';
import { DRIVING_METRIC } from './server-sim';

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
