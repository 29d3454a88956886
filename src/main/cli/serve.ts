import { join } from 'node:path';
import type { PrometheusSourceInput } from '@shared/domain';
import { parseArgs } from 'node:util';
import { createCore, DEFAULT_SIMULATOR } from '../core/app';
import { prometheusFromFlags } from '../core/sources/prometheus/cli-flags';
import { formatShard, inShard, parseShard, type Shard } from '../core/fleet/shard';
import { defaultFleet } from '../core/metrics/simulator/fleet-sim';
import { APP_INFO } from '../core/app-info';
import type { ProviderSetting } from '../core/model/infer';
import { bundledModelDir, defaultDataDir } from '../core/paths';
import { bundledPredictWorker } from '../core/fleet/predict-worker-bundled';
import { bundledTrainWorker } from '../core/model/train/train-worker-bundled';
import { createStderrLogger } from '../core/util/logger';
import { isLoopbackHost, loadOrCreateToken } from '../daemon/security';
import { startDaemon } from '../daemon/server';
import { UsageError } from './usage-error';

export const SERVE_USAGE = `Usage: npm run serve -- [options]

Runs the core headless: the REST + WebSocket API and the dashboard at http://HOST:PORT/.

Options:
  --port N          port to listen on (default 8000; 0 picks a free one)
  --host ADDR       address to bind (default 127.0.0.1). Any non-loopback address
                    requires a token, generated on first use in --token-file
  --token-file F    where the token lives (default DATA_DIR/daemon-token, mode 0600)
  --allow-host H    also accept requests whose Host header is H (repeatable)
  --data-dir D      settings, store and models (default: the desktop app's folder)
  --dashboard-dir D the built dashboard (default: out/renderer beside this script)
  --servers N       size of the simulated fleet, the embedded default source (default 20)
  --speed X         simulated fleet seconds per real second, 1 to 3600 (default 1)
  --seed S          simulated fleet seed (default tftmp)
  --shard K/N       run shard K of N: only the servers whose name hashes to shard K are
                    simulated and predicted (docs/scale-out.md); default: the whole fleet
  --no-simulator    no simulated fleet: serve imported data and real sources only
  --auto-retrain    retrain in the background on the store's last 3 days when the forecast
                    error drifts or new profiles appear; the new model replaces the active one
                    only if it beats it on the evaluation (docs/api.md, model.train)
  --retrain-every H also retrain on a schedule, every H hours (implies --auto-retrain)
  --prometheus URL  read metrics from this Prometheus (node_exporter queries by default;
                    docs/integrations.md): backfills 24 h, then polls every 5 min. Stored
                    in DATA_DIR/sources.json as source "prometheus"
  --prometheus-token-file F
                    a file holding the bearer token for --prometheus (kept out of argv)
  --model DIR       a model folder (model.onnx + model.json) to predict with; the bundled
                    model (resources/models/default) runs when it is refused, and /health says why
  --provider P      ONNX Runtime execution provider: auto (default: the fastest of the GPU
                    providers that load and the cpu), cpu, webgpu or cuda (cpu if it cannot load)
  -h, --help        this text
`;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'token-file': { type: 'string' },
      'allow-host': { type: 'string', multiple: true, default: [] },
      'data-dir': { type: 'string' },
      'dashboard-dir': { type: 'string' },
      servers: { type: 'string', default: String(DEFAULT_SIMULATOR.servers) },
      speed: { type: 'string', default: String(DEFAULT_SIMULATOR.speed) },
      seed: { type: 'string', default: DEFAULT_SIMULATOR.seed },
      shard: { type: 'string' },
      'no-simulator': { type: 'boolean', default: false },
      'auto-retrain': { type: 'boolean', default: false },
      'retrain-every': { type: 'string' },
      prometheus: { type: 'string' },
      'prometheus-token-file': { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string', default: 'auto' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  }
  const servers = Number(values.servers);
  if (!Number.isInteger(servers) || servers < 1 || servers > 100_000) {
    throw new UsageError(`--servers must be an integer from 1 to 100000, got "${values.servers}"`);
  }
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed < 1 || speed > 3600) {
    throw new UsageError(`--speed must be a number from 1 to 3600, got "${values.speed}"`);
  }
  const provider = values.provider;
  if (!isProviderSetting(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDER_SETTINGS.join(', ')}, got "${provider}"`);
  }
  let shard: Shard | null = null;
  if (values.shard !== undefined) {
    try {
      shard = parseShard(values.shard);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const fleet = defaultFleet(servers).filter((s) => inShard(s.name, shard));
  if (fleet.length === 0 && !values['no-simulator']) {
    throw new UsageError(`--shard ${values.shard}: none of the ${servers} simulated servers falls in this shard; use a larger --servers`);
  }
  let retrainEveryMs: number | null = null;
  if (values['retrain-every'] !== undefined) {
    const hours = Number(values['retrain-every']);
    if (!Number.isFinite(hours) || hours < 1 || hours > 24 * 30) {
      throw new UsageError(`--retrain-every must be a number of hours from 1 to 720, got "${values['retrain-every']}"`);
    }
    retrainEveryMs = hours * 3_600_000;
  }
  const prometheus = prometheusSource(values.prometheus, values['prometheus-token-file']);
  const host = values.host;
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const logger = createStderrLogger();

  let token: string | undefined;
  let tokenFile: string | undefined;
  if (!isLoopbackHost(host)) {
    tokenFile = values['token-file'] ?? join(dataDir, 'daemon-token');
    const loaded = loadOrCreateToken(tokenFile);
    token = loaded.token;
    logger.info(loaded.created ? 'generated a new API token' : 'using the existing API token', { tokenFile });
  }

  const core = createCore({
    dataDir,
    runtime: 'daemon',
    logger,
    // The whole fleet's names and profiles, this shard's servers: each simulated server's series
    // depends on the seed and its name, so the shards together play the unsharded fleet.
    ...(prometheus ? { prometheus: [prometheus] } : {}),
    simulator: values['no-simulator'] ? null : { ...DEFAULT_SIMULATOR, servers: fleet, speed, seed: values.seed },
    // out/main/cli.js -> <repo>/resources/models/default.
    model: {
      bundledDir: bundledModelDir({ mainDir: __dirname }),
      preferredDir: values.model ?? null,
      provider,
      // Each cycle computes on the prediction worker thread: the event loop keeps serving.
      predictWorker: bundledPredictWorker,
      shard,
    },
    // model.train runs on the training worker thread, as `npm run train` does.
    trainWorker: bundledTrainWorker,
    retraining:
      retrainEveryMs !== null ? { intervalMs: retrainEveryMs } : values['auto-retrain'] ? {} : null,
  });
  const daemon = await startDaemon({
    core,
    logger,
    host,
    port,
    ...(token ? { token } : {}),
    allowHosts: values['allow-host'],
    dashboardDir: values['dashboard-dir'] ?? join(__dirname, '..', 'renderer'),
  });

  // The first line on stdout is the contract with scripts (and the e2e harness): the URL.
  process.stdout.write(`${APP_INFO.name} ${APP_INFO.version} listening on ${daemon.url}/\n`);
  if (shard) logger.info('serving one shard of the fleet', { shard: formatShard(shard), servers: fleet.length });
  if (token) {
    process.stdout.write(`Token in ${tokenFile}. Open the dashboard once with ${daemon.url}/login?token=<token>\n`);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    void daemon
      .close()
      .then(() => core.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `--prometheus URL [--prometheus-token-file F]`: a usage error names the flag. */
function prometheusSource(url: string | undefined, tokenFile: string | undefined): PrometheusSourceInput | null {
  try {
    return prometheusFromFlags(url, tokenFile);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const PROVIDER_SETTINGS = ['auto', 'cpu', 'webgpu', 'cuda'] as const satisfies readonly ProviderSetting[];

function isProviderSetting(value: string): value is ProviderSetting {
  return (PROVIDER_SETTINGS as readonly string[]).includes(value);
}
