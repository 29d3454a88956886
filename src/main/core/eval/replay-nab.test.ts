import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedTensors, loadModelFolder } from '../model/folder';
import { createInferenceSession } from '../model/infer';
import { createMemoryLogger } from '../util/logger';
import { anomalyScore } from './replay';
import { BYTES_PER_5MIN_TO_MBPS, nabMapping, replayNab } from './replay-nab';

const NAB = resolve('../shared/datasets/nab-aws');
const FILE = 'ec2_cpu_utilization_77c1ca.csv';

describe('anomalyScore', () => {
  it('is 0 inside the band and the distance in band widths outside', () => {
    expect(anomalyScore(50, 40, 60, 1)).toBe(0);
    expect(anomalyScore(70, 40, 60, 1)).toBe(0.5);
    expect(anomalyScore(20, 40, 60, 1)).toBe(1);
    // A collapsed band counts as minWidth wide.
    expect(anomalyScore(3, 0, 0, 1)).toBe(3);
  });
});

describe('NAB mapping', () => {
  it('maps CPU and network files onto the contract and skips the rest with a reason', () => {
    expect(nabMapping('ec2_cpu_utilization_24ae8d.csv')).toMatchObject({ metric: 'cpu_percent', scale: 1 });
    expect(nabMapping('rds_cpu_utilization_cc0c53.csv')).toMatchObject({ metric: 'cpu_percent' });
    expect(nabMapping('iio_us-east-1_i-a2eb1cd9_NetworkIn.csv')).toMatchObject({
      metric: 'network_in_mbps',
      scale: BYTES_PER_5MIN_TO_MBPS,
    });
    expect(nabMapping('ec2_disk_write_bytes_1ef3de.csv')).toHaveProperty('skip');
    expect(nabMapping('grok_asg_anomaly.csv')).toHaveProperty('skip');
    // 37.5 MB in 5 minutes = 1 Mbit/s.
    expect(37_500_000 * BYTES_PER_5MIN_TO_MBPS).toBeCloseTo(1, 9);
  });
});

// The dataset is not in the project: this runs only where ../shared/datasets/nab-aws exists.
describe.skipIf(!existsSync(join(NAB, FILE)))('NAB replay on one real file', () => {
  it('scores the labelled window with every rule and counts false alarms', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nab-'));
    try {
      copyFileSync(join(NAB, FILE), join(dir, FILE));
      const labels = JSON.parse(readFileSync(join(NAB, 'anomaly_windows.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'anomaly_windows.json'), JSON.stringify({ [FILE]: labels[FILE] }));
      const model = await loadModelFolder(resolve('resources/models/default'));
      const session = await createInferenceSession({
        modelBytes: model.onnxBytes,
        ...expectedTensors(model.manifest),
        provider: 'cpu',
        logger: createMemoryLogger(),
      });
      try {
        const report = await replayNab({ dir, spec: model.manifest.featureSpec, session, knownServers: new Set() });
        expect(report.files).toHaveLength(1);
        const f = report.files[0]!;
        expect(f.metric).toBe('cpu_percent');
        expect(f.rows).toBeGreaterThan(500);
        expect(f.windows).toBe(1);
        for (const rule of ['probation', 'fixed'] as const)
          for (const score of ['anomaly', 'risk', 'reactive'] as const) {
            const r = f.results![rule][score]!;
            expect(r.windows).toHaveLength(1);
            expect(r.falseAlarms).toBeGreaterThanOrEqual(0);
            expect(report.headline[rule][score].windows).toBe(1);
          }
      } finally {
        await session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
