import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CoreApi } from '@shared/contract';
import { APP_INFO } from '../core/app-info';
import type { Logger } from '../core/util/logger';
// Headless mode IS the daemon, run in the Electron main process (issue 10): this module is the one
// place desktop composes it (eslint.config.mjs allows it here only), so the HTTP server, its gate
// and its token rules are the same code as `npm run serve`, not a copy. start-desktop.ts sees
// only HeadlessServer.
import { isLoopbackHost, loadOrCreateToken } from '../daemon/security';
import { startDaemon } from '../daemon/server';

export interface HeadlessArgs {
  port: number;
  host: string;
  tokenFile?: string;
  allowHosts: string[];
}

export class HeadlessUsageError extends Error {}

/** What the app keeps of the running daemon. */
export interface HeadlessServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `--headless [--port N] [--host ADDR] [--token-file F] [--allow-host H]…` anywhere in the app's
 * command line; null without `--headless`. Chromium's and Electron's own switches pass through
 * (not strict), so `electron . --headless` and the packaged binary both work.
 */
export function parseHeadlessArgs(argv: readonly string[]): HeadlessArgs | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    options: {
      headless: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      'token-file': { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
    },
  });
  if (values.headless !== true) return null;
  const portText = typeof values.port === 'string' ? values.port : '8000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new HeadlessUsageError(`--port must be an integer from 0 to 65535, got "${portText}"`);
  }
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const allowHosts = (Array.isArray(values['allow-host']) ? values['allow-host'] : []).filter(
    (h): h is string => typeof h === 'string',
  );
  const tokenFile = values['token-file'];
  return { port, host, allowHosts, ...(typeof tokenFile === 'string' ? { tokenFile } : {}) };
}

export interface HeadlessServerOptions {
  core: CoreApi;
  logger: Logger;
  args: HeadlessArgs;
  /** Where the token file goes by default (userData, as `serve --data-dir`). */
  dataDir: string;
  /** The built dashboard the daemon serves (`out/renderer`). */
  dashboardDir: string;
  /** Where the "listening on" line goes (process.stdout). */
  stdout: { write(text: string): unknown };
}

/**
 * The daemon of `npm run serve`, in the Electron main process: the same startDaemon, the same
 * security rules (loopback by default; any other address requires a token, created 0600 on
 * first use). No RunAsNode: Electron's main process is Node, it just opens no window.
 */
export async function startHeadlessServer(options: HeadlessServerOptions): Promise<HeadlessServer> {
  const { args, logger } = options;
  let token: string | undefined;
  let tokenFile: string | undefined;
  if (!isLoopbackHost(args.host)) {
    tokenFile = args.tokenFile ?? join(options.dataDir, 'daemon-token');
    const loaded = loadOrCreateToken(tokenFile);
    token = loaded.token;
    logger.info(loaded.created ? 'generated a new API token' : 'using the existing API token', { tokenFile });
  }
  const daemon = await startDaemon({
    core: options.core,
    logger,
    host: args.host,
    port: args.port,
    ...(token ? { token } : {}),
    allowHosts: args.allowHosts,
    dashboardDir: options.dashboardDir,
  });
  // The same first line as `npm run serve`: scripts read the URL from it.
  options.stdout.write(`${APP_INFO.name} ${APP_INFO.version} listening on ${daemon.url}/\n`);
  if (token) {
    options.stdout.write(`Token in ${tokenFile}. Open the dashboard once with ${daemon.url}/login?token=<token>\n`);
  }
  return daemon;
}
