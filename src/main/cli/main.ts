import { APP_INFO } from '../core/app-info';
import { CheckpointError, DatasetError } from '../core/model/train';
import { bundledTrainWorker } from '../core/model/train/train-worker-bundled';
import { EVALUATE_USAGE, evaluateCommand } from './evaluate';
import { GENERATE_USAGE, generateCommand } from './generate';
import { IMPORT_USAGE, importCommand } from './import';
import { REPLAY_USAGE, replayCommand } from './replay';
import { SERVE_USAGE, serveCommand } from './serve';
import { TRAIN_USAGE, trainCommand } from './train';
import { UsageError } from './usage-error';

const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<void>; usage: string }> = {
  serve: { summary: 'run the API and the dashboard headless', run: serveCommand, usage: SERVE_USAGE },
  import: { summary: 'load Parquet, Arrow or CSV metric files into the store', run: importCommand, usage: IMPORT_USAGE },
  generate: { summary: 'generate a simulated fleet dataset (Parquet + mapping + metadata)', run: generateCommand, usage: GENERATE_USAGE },
  train: { summary: 'train the TFT on a dataset folder and write a model folder', run: async (argv) => void (await trainCommand(argv, { worker: bundledTrainWorker })), usage: TRAIN_USAGE },
  replay: { summary: 'score every step of a history file as if seen live (CSV of risk, bands, anomaly score); --nab for the NAB benchmark', run: async (argv) => void (await replayCommand(argv)), usage: REPLAY_USAGE },
  evaluate: { summary: 'the early-warning benchmark of a model folder against baselines (report.json + report.html)', run: async (argv) => void (await evaluateCommand(argv)), usage: EVALUATE_USAGE },
};

const USAGE = `${APP_INFO.name} ${APP_INFO.version}

Usage: tft-monitoring-prediction <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run a command with --help for its options.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${APP_INFO.version}\n`);
    return;
  }
  const entry = Object.prototype.hasOwnProperty.call(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) throw new UsageError(`Unknown command "${command}"\n\n${USAGE}`);
  try {
    await entry.run(rest);
  } catch (error) {
    // node:util parseArgs throws TypeErrors with codes for unknown or malformed options.
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${(error as Error).message}\n\n${entry.usage}`);
    }
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // A bad dataset folder or --resume path is the user's to fix: the message says what and where.
  if (error instanceof UsageError || error instanceof DatasetError || error instanceof CheckpointError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
