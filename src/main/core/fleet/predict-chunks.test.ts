import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerPrediction } from '@shared/domain';
import { defaultFleet } from '../metrics/simulator/fleet-sim';
import { generateFleet } from '../metrics/simulator/generate';
import { MONDAY } from '../model/features/testing/series';
import { expectedTensors, loadModelFolder, type ModelManifest } from '../model/folder';
import { createInferenceSession, type InferenceSession } from '../model/infer';
import { combineUpstreamRisk } from '../model/upstream-risk';
import { bundledModelDir } from '../paths';
import { createMemoryLogger } from '../util/logger';
import { MAX_DRIVERS, type ServerExplanation } from './explain';
import { predictChunks, type PredictChunksInput } from './predict-chunks';

/** predictChunks with the bundled model and a real onnxruntime session (cpu), on a simulated fleet. */
const ROOT = resolve(__dirname, '..', '..', '..', '..');
let manifest: ModelManifest;
let session: InferenceSession;
beforeAll(async () => {
  const model = await loadModelFolder(bundledModelDir({ mainDir: join(ROOT, 'out', 'main') }));
  manifest = model.manifest;
  session = await createInferenceSession({
    modelBytes: model.onnxBytes,
    ...expectedTensors(manifest),
    provider: 'cpu',
    logger: createMemoryLogger(),
  });
}, 60_000);
afterAll(() => session?.close());

// ppcon01, ppdb001, ppetl001 | ppml0001, pprisk001, ppsvc001 | ppweb001 in chunks of 3.
const fleet = generateFleet({ seed: 'upstream-chunks', start: MONDAY, servers: defaultFleet(7), hours: 26 });
const eligible = fleet.mapping
  .entries()
  .map((e) => e.name)
  .sort();

async function run(
  upstream?: PredictChunksInput['upstream'],
): Promise<{ servers: Map<string, ServerPrediction>; explanations: Map<string, ServerExplanation> }> {
  const servers = new Map<string, ServerPrediction>();
  const explanations = new Map<string, ServerExplanation>();
  for await (const chunk of predictChunks({
    columns: fleet.columns,
    eligible,
    spec: manifest.featureSpec,
    at: fleet.end,
    knownServers: new Set(manifest.training.dataset.trainingServers),
    profileOf: (name) => fleet.mapping.get(name)!.profile,
    minCoverage: 0.5,
    chunkServers: 3,
    session,
    explains: true,
    upstream,
  })) {
    for (const p of chunk.servers) servers.set(p.server, p);
    for (const [server, e] of chunk.explanations) explanations.set(server, e);
  }
  return { servers, explanations };
}

describe('predictChunks with upstream terms', () => {
  it("combines each server's risk with its upstream's: from its own chunk, an earlier one, or the previous cycle", async () => {
    const alone = await run();
    expect([...alone.servers.keys()]).toEqual(eligible);
    const model = (name: string): number => alone.servers.get(name)!.risk;
    const c = 0.5;
    const { servers, explanations } = await run({
      dependencyOf: new Map([
        ['ppetl001', 'ppdb001'], // the same chunk, its upstream before it
        ['ppcon01', 'ppetl001'], // the same chunk, its upstream after it (itself with an upstream)
        ['pprisk001', 'ppdb001'], // an earlier chunk
        ['ppsvc001', 'ppweb001'], // a later chunk: last cycle's risk
        ['ppml0001', 'ppgone001'], // not predicted this cycle: none
      ]),
      coefficient: c,
      previous: new Map([
        ['ppweb001', 0.8],
        ['ppgone001', 0.9],
      ]),
    });
    expect([...servers.keys()]).toEqual(eligible);

    const etl = combineUpstreamRisk(model('ppetl001'), model('ppdb001'), c);
    const expected: Record<string, { risk: number; upstream?: string; upstreamRisk?: number }> = {
      ppdb001: { risk: model('ppdb001') },
      ppetl001: { risk: etl, upstream: 'ppdb001', upstreamRisk: model('ppdb001') },
      ppcon01: { risk: combineUpstreamRisk(model('ppcon01'), etl, c), upstream: 'ppetl001', upstreamRisk: etl },
      pprisk001: {
        risk: combineUpstreamRisk(model('pprisk001'), model('ppdb001'), c),
        upstream: 'ppdb001',
        upstreamRisk: model('ppdb001'),
      },
      ppsvc001: { risk: combineUpstreamRisk(model('ppsvc001'), 0.8, c), upstream: 'ppweb001', upstreamRisk: 0.8 },
      ppml0001: { risk: model('ppml0001') },
      ppweb001: { risk: model('ppweb001') },
    };
    for (const [name, want] of Object.entries(expected)) {
      const p = servers.get(name)!;
      expect(p.risk, name).toBeCloseTo(want.risk, 4);
      if (want.upstream === undefined) {
        expect(p, name).toEqual(alone.servers.get(name));
        expect(explanations.get(name), name).toEqual(alone.explanations.get(name));
        continue;
      }
      expect(p.upstream, name).toEqual({
        server: want.upstream,
        risk: expect.closeTo(want.upstreamRisk!, 4),
        modelRisk: model(name),
        coefficient: c,
      });
      expect(p.risk, name).toBeGreaterThanOrEqual(model(name));
      expect(
        Object.values(p.failureModes).reduce((a, b) => a + b, 0),
        name,
      ).toBeCloseTo(1, 3);
      expect(p.failureModes[p.failureMode]).toBe(Math.max(...Object.values(p.failureModes)));
      expect(p.forecast).toEqual(alone.servers.get(name)!.forecast);
      const drivers = explanations.get(name)!.drivers;
      expect(drivers[0], name).toMatch(
        new RegExp(`^depends on ${want.upstream}, at \\d+ % risk: .* 50 % of the time in training`),
      );
      expect(drivers).toHaveLength(MAX_DRIVERS);
      // The model's own drivers follow; the first now says it drives the model's own risk.
      expect(drivers.slice(1)).toEqual(
        alone.explanations
          .get(name)!
          .drivers.slice(0, MAX_DRIVERS - 1)
          .map((d) => d.replace(/: the largest driver of this prediction$/, ': the largest driver of its own risk')),
      );
    }
  }, 60_000);
});
