import { beforeAll, describe, expect, it } from 'vitest';
import { STEP_MS } from '@shared/contract';
import { serverBucket } from '../../metrics/server-encoding';
import { defaultFleet } from '../../metrics/simulator/fleet-sim';
import { generateFleet, type GeneratedFleet } from '../../metrics/simulator/generate';
import { buildDataset, pickHeldOutServers, type FeatureDataset } from './dataset';
import {
  DEFAULT_FEATURE_SPEC,
  DEFAULT_FEATURE_SPEC as SPEC,
  MIN_NORMALIZATION_SCALE,
  validateFeatureSpec,
  type WindowBatch,
} from './feature-spec';
import { filterRows, MONDAY } from './testing/series';
import { buildWindows, SKIP_REASONS } from './windows';

const HORIZON = SPEC.horizonSteps * SPEC.stepMinutes * 60_000;
let fleet: GeneratedFleet;
let dataset: FeatureDataset;

beforeAll(() => {
  fleet = generateFleet({ seed: 'dataset', start: MONDAY, servers: defaultFleet(12), hours: 14 * 24 });
  dataset = buildDataset(fleet.columns, fleet.incidents, {
    seed: 7,
    heldOutCount: 2,
    dataEnd: fleet.end - STEP_MS,
    profileOf: (s) => fleet.mapping.get(s)!.profile,
  });
});

const windowsOf = (batches: Iterable<WindowBatch>): string[] => {
  const out: string[] = [];
  for (const b of batches) for (let i = 0; i < b.size; i++) out.push(`${b.server[i]}@${b.time[i]}`);
  return out;
};

describe('buildDataset', () => {
  it('accounts for every evaluation point', () => {
    const { stats } = dataset;
    const skipped = SKIP_REASONS.reduce((n, r) => n + stats.skipped[r], 0);
    expect(stats.windows + skipped).toBe(stats.points);
    expect(stats.windows).toBe(dataset.train.size + dataset.validation.size);
    expect(stats.positives).toBeGreaterThan(0);
    expect(stats.skipped.incident_ongoing).toBeGreaterThan(0);
    // 12 servers x (14 days - 1) x 48 points a day, every one after the first 24 h.
    expect(stats.points).toBe(12 * 13 * 48);
  });

  it('splits by server with no overlap; held-out servers are unknown to the model', () => {
    const held = new Set(dataset.stats.heldOutServers);
    expect(held.size).toBe(2);
    const train = dataset.materialize('train');
    for (let b = 0; b < train.size; b++) {
      expect(held.has(train.server[b]!)).toBe(false);
      expect(train.serverBucket[b]).toBe(serverBucket(train.server[b]!, SPEC.serverBuckets));
    }
    expect(dataset.trainServers.filter((s) => held.has(s))).toEqual([]);
    const validation = dataset.materialize('validation');
    let heldWindows = 0;
    for (let b = 0; b < validation.size; b++)
      if (held.has(validation.server[b]!)) {
        heldWindows++;
        expect(validation.serverBucket[b]).toBe(0);
      }
    expect(heldWindows).toBe(dataset.stats.validation.heldOutServerWindows);
  });

  it('splits by time with no overlap: training labels end by the cut, validation starts at it', () => {
    const cut = dataset.stats.timeCut!;
    expect(cut % (30 * 60_000)).toBe(0);
    const held = new Set(dataset.stats.heldOutServers);
    for (let r = 0; r < dataset.train.size; r++) expect(dataset.train.time[r]! + HORIZON).toBeLessThanOrEqual(cut);
    let late = 0;
    for (let r = 0; r < dataset.validation.size; r++) {
      if (held.has(dataset.servers[dataset.validation.slot[r]!]!.server)) continue;
      expect(dataset.validation.time[r]!).toBeGreaterThanOrEqual(cut);
      late++;
    }
    expect(late).toBe(dataset.stats.validation.lateWindows);
    expect(dataset.stats.skipped.split_gap).toBe(
      (12 - 2) * (SPEC.horizonSteps - 1) - countOngoingIn(cut - HORIZON, cut),
    );
  });

  it('never has a window inside an incident of its server', () => {
    for (const split of ['train', 'validation'] as const) {
      const index = dataset.split(split);
      for (let r = 0; r < index.size; r++) {
        const server = dataset.servers[index.slot[r]!]!.server;
        const t = index.time[r]!;
        expect(fleet.incidents.some((i) => i.server === server && i.onset <= t && t < i.end)).toBe(false);
      }
    }
  });

  it('materialises the same window as buildWindows does for that server', () => {
    const batch = dataset.materialize('train', [0, 123, dataset.train.size - 1]);
    for (let b = 0; b < batch.size; b++) {
      const server = batch.server[b]!;
      const one = buildWindows(
        filterRows(fleet.columns, (i) => fleet.columns.server[i] === server),
        {
          // The dataset's spec: the default plus the normalization fitted on its training split.
          spec: dataset.spec,
          incidents: fleet.incidents,
          times: [batch.time[b]!],
          dataEnd: fleet.end - STEP_MS,
          profileOf: (s) => fleet.mapping.get(s)!.profile,
        },
      ).batch;
      const F = SPEC.contextSteps * SPEC.observed.length;
      expect(batch.observed.subarray(b * F, (b + 1) * F)).toEqual(one.observed);
      expect(batch.observedMask.subarray(b * F, (b + 1) * F)).toEqual(one.observedMask);
      const G = SPEC.horizonSteps * SPEC.targets.length;
      expect(batch.targets.subarray(b * G, (b + 1) * G)).toEqual(one.targets);
      expect(batch.risk[b]).toBe(one.risk[0]);
      expect(batch.failureMode[b]).toBe(one.failureMode[0]);
      expect(batch.profile[b]).toBe(one.profile[0]);
    }
  });

  it('labels positives with the failure mode of the incident ahead', () => {
    const { byFailureMode } = dataset.stats.train;
    expect(byFailureMode.none).toBe(dataset.stats.train.windows - dataset.stats.train.positives);
    const train = dataset.train;
    for (let r = 0; r < train.size; r++) {
      const server = dataset.servers[train.slot[r]!]!.server;
      const t = train.time[r]!;
      const next = fleet.incidents
        .filter((i) => i.server === server && i.onset > t && i.onset <= t + HORIZON)
        .sort((a, b) => a.onset - b.onset)[0];
      expect(train.risk[r]).toBe(next ? 1 : 0);
      expect(SPEC.failureModes[train.failureMode[r]!]).toBe(next ? SPEC.failureModeOf[next.type] : 'none');
      const start = next?.precursor ? next.precursorStart : null;
      const progress = next && start !== null && t > start ? (t - start) / (next.onset - start) : 0;
      expect(train.precursor![r]).toBeCloseTo(progress, 5);
    }
  });
});

describe('mini-batches', () => {
  it('cover every window exactly once per epoch, shuffled, and the same with the same seed', () => {
    const a = windowsOf(dataset.batches('train', { batchSize: 100, seed: 3, epoch: 1 }));
    const b = windowsOf(dataset.batches('train', { batchSize: 100, seed: 3, epoch: 1 }));
    const c = windowsOf(dataset.batches('train', { batchSize: 100, seed: 3, epoch: 2 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBe(dataset.train.size);
    expect(a.length).toBe(dataset.train.size);
    expect(dataset.batchCount('train', { batchSize: 100 })).toBe(Math.ceil(dataset.train.size / 100));
    const ordered = windowsOf(dataset.batches('validation', { batchSize: 100 }));
    expect(ordered).toEqual(windowsOf([dataset.materialize('validation')]));
  });

  it('are identical batch for batch with the same seed, bucket dropout included', () => {
    const take = (n: number): WindowBatch[] => {
      const out: WindowBatch[] = [];
      for (const batch of dataset.batches('train', { batchSize: 64, seed: 'x', oversamplePositives: 3 })) {
        out.push(batch);
        if (out.length === n) break;
      }
      return out;
    };
    const first = take(5);
    const again = take(5);
    for (let i = 0; i < 5; i++) {
      for (const key of ['observed', 'observedMask', 'known', 'targets', 'targetMask', 'risk'] as const)
        expect(Buffer.from(again[i]![key].buffer).equals(Buffer.from(first[i]![key].buffer))).toBe(true);
      expect(again[i]!.serverBucket).toEqual(first[i]!.serverBucket);
      expect(again[i]!.server).toEqual(first[i]!.server);
      expect(again[i]!.time).toEqual(first[i]!.time);
    }
  });

  it('oversample positives and drop server identity at the asked rate', () => {
    const positives = dataset.stats.train.positives;
    let seen = 0;
    let windows = 0;
    let unknown = 0;
    for (const batch of dataset.batches('train', {
      batchSize: 256,
      seed: 1,
      oversamplePositives: 3,
      unknownServerRate: 0.25,
    })) {
      windows += batch.size;
      for (let b = 0; b < batch.size; b++) {
        seen += batch.risk[b]!;
        if (batch.serverBucket[b] === 0) unknown++;
      }
    }
    expect(seen).toBe(3 * positives);
    expect(windows).toBe(dataset.train.size + 2 * positives);
    expect(unknown / windows).toBeGreaterThan(0.2);
    expect(unknown / windows).toBeLessThan(0.3);
    for (const batch of dataset.batches('validation', { batchSize: 512 }))
      for (let b = 0; b < batch.size; b++)
        if (!dataset.stats.heldOutServers.includes(batch.server[b]!)) expect(batch.serverBucket[b]).not.toBe(0);
  });

  it('repeat the positives with a visible precursor of the asked failure modes more often', () => {
    const train = dataset.train;
    const memory = SPEC.failureModes.indexOf('memory');
    const boost = { factors: { [memory]: 4 }, minProgress: 0.25 };
    let boosted = 0;
    for (let r = 0; r < train.size; r++)
      if (train.risk[r] === 1 && train.failureMode[r] === memory && train.precursor![r]! >= 0.25) boosted++;
    expect(boosted).toBeGreaterThan(0);
    const order = dataset.epochOrder('train', { seed: 1, epoch: 1, oversamplePositives: 2, precursorOversample: boost });
    const counts = new Map<number, number>();
    for (const r of order) counts.set(r, (counts.get(r) ?? 0) + 1);
    for (let r = 0; r < train.size; r++) {
      const visible = train.risk[r] === 1 && train.failureMode[r] === memory && train.precursor![r]! >= 0.25;
      expect(counts.get(r)).toBe(train.risk[r] === 1 ? (visible ? 8 : 2) : 1);
    }
    // Without the option the order is what it always was.
    expect(dataset.epochOrder('train', { seed: 1, epoch: 1, oversamplePositives: 2 })).toEqual(
      dataset.epochOrder('train', { seed: 1, epoch: 1, oversamplePositives: 2, precursorOversample: { factors: {}, minProgress: 0 } }),
    );
  });

  it('drops a short last batch on request', () => {
    const sizes = [...dataset.batches('train', { batchSize: 1000, dropLast: true })].map((b) => b.size);
    expect(sizes.every((s) => s === 1000)).toBe(true);
    expect(sizes.length).toBe(Math.floor(dataset.train.size / 1000));
  });
});

describe('held-out servers and options', () => {
  it('picks held-out servers by seed, independent of the fleet order', () => {
    const names = defaultFleet(20).map((s) => s.name);
    const a = pickHeldOutServers(names, { seed: 1 });
    expect(a).toHaveLength(2);
    expect(pickHeldOutServers([...names].reverse(), { seed: 1 })).toEqual(a);
    expect(pickHeldOutServers(names, { validationServers: ['ppdb001', 'nope'] })).toEqual(['ppdb001']);
    expect(() => pickHeldOutServers(names, { heldOutCount: 20 })).toThrow(/at least one training server/);
  });

  it('puts everything in one split for evaluation, with unseen servers as bucket 0', () => {
    const all = buildDataset(fleet.columns, fleet.incidents, {
      validationShare: 0,
      heldOutCount: 0,
      knownServers: ['ppdb001'],
    });
    expect(all.validation.size).toBe(0);
    expect(all.stats.skipped.split_gap).toBe(0);
    for (let r = 0; r < all.train.size; r++) {
      const server = all.servers[all.train.slot[r]!]!.server;
      expect(all.train.bucket[r]).toBe(server === 'ppdb001' ? serverBucket(server, SPEC.serverBuckets) : 0);
    }
  });

  it('refuses a stride off the model grid', () => {
    expect(() => buildDataset(fleet.columns, fleet.incidents, { strideMinutes: 45 })).toThrow(/strideMinutes 45/);
  });
});

/** Points t in (from, to) of non-held-out servers that are inside an incident (skipped before the split). */
function countOngoingIn(from: number, to: number): number {
  const held = new Set(dataset.stats.heldOutServers);
  let n = 0;
  for (const steps of dataset.servers) {
    if (held.has(steps.server)) continue;
    for (let t = from + 30 * 60_000; t < to; t += 30 * 60_000)
      if (fleet.incidents.some((i) => i.server === steps.server && i.onset <= t && t < i.end)) n++;
  }
  return n;
}

describe('observed normalization', () => {
  const fleet = generateFleet({ seed: 'norm-fleet', start: MONDAY, servers: defaultFleet(4), hours: 4 * 24 });

  it('is fitted on the training split, standardises those channels to mean 0 and sd 1, and is carried by the spec', () => {
    const ds = buildDataset(fleet.columns, fleet.incidents, { validationShare: 0, heldOutCount: 0 });
    const n = ds.spec.normalization!;
    expect(n.center).toHaveLength(ds.spec.observed.length);
    expect(n.scale.every((x) => x >= MIN_NORMALIZATION_SCALE)).toBe(true);
    validateFeatureSpec(ds.spec);
    // The steps the training windows' contexts cover (all but the last horizon, whose windows
    // would lack a full horizon), standardised: mean ~0, sd ~1 per channel that varies.
    const F = ds.spec.observed.length;
    const covered = (s: (typeof ds.servers)[number]): number => (s.steps - ds.spec.horizonSteps) * F;
    const sum = new Float64Array(F);
    const sq = new Float64Array(F);
    const count = new Float64Array(F);
    for (const s of ds.servers)
      for (let k = 0; k < covered(s); k++)
        if (s.observedMask[k]! > 0) {
          sum[k % F]! += s.observed[k]!;
          sq[k % F]! += s.observed[k]! ** 2;
          count[k % F]! += 1;
        }
    for (let f = 0; f < F; f++) {
      if (count[f] === 0 || n.scale[f] === MIN_NORMALIZATION_SCALE) continue;
      const mean = sum[f]! / count[f]!;
      expect(Math.abs(mean)).toBeLessThan(0.01);
      expect(Math.abs(Math.sqrt(sq[f]! / count[f]! - mean * mean) - 1)).toBeLessThan(0.02);
    }
  });

  it('a spec that has one is applied as it is, not refitted', () => {
    const fitted = buildDataset(fleet.columns, fleet.incidents, { validationShare: 0, heldOutCount: 0 });
    const again = buildDataset(
      filterRows(fleet.columns, (i) => fleet.columns.server[i] === fitted.servers[0]!.server),
      fleet.incidents,
      { validationShare: 0, heldOutCount: 0, spec: fitted.spec },
    );
    expect(again.spec.normalization).toEqual(fitted.spec.normalization);
    expect(again.servers[0]!.observed).toEqual(fitted.servers[0]!.observed);
  });

  it('fitNormalization: false leaves the contract scaling alone', () => {
    const raw = buildDataset(fleet.columns, fleet.incidents, { validationShare: 0, heldOutCount: 0, fitNormalization: false });
    expect(raw.spec.normalization).toBeUndefined();
    const fitted = buildDataset(fleet.columns, fleet.incidents, { validationShare: 0, heldOutCount: 0 });
    const n = fitted.spec.normalization!;
    const F = raw.spec.observed.length;
    const a = raw.servers[1]!;
    const b = fitted.servers[1]!;
    for (let k = 0; k < a.observed.length; k += 97)
      if (a.observedMask[k]! > 0)
        expect(b.observed[k]).toBeCloseTo((a.observed[k]! - n.center[k % F]!) / n.scale[k % F]!, 4);
  });

  it('a normalization of the wrong length or with a zero scale is refused', () => {
    const F = DEFAULT_FEATURE_SPEC.observed.length;
    const bad = (normalization: { center: number[]; scale: number[] }) => () =>
      validateFeatureSpec({ ...DEFAULT_FEATURE_SPEC, normalization });
    expect(bad({ center: [0], scale: [1] })).toThrow(/one center and one scale per observed channel/);
    expect(bad({ center: new Array<number>(F).fill(0), scale: new Array<number>(F).fill(0) })).toThrow(/scale\[0\].*positive/);
  });
});
