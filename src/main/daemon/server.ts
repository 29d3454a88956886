import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { api, ApiError, dispatch, isMethod, METHODS, type CoreApi, type EventMessage } from '@shared/contract';
import { CONTENT_SECURITY_POLICY } from '@shared/contract/csp';
import type { ActiveAlerts, CurrentPredictions, Health } from '@shared/domain';
import type { Logger } from '../core/util/logger';
import { EventLoopDelayMonitor } from './event-loop';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './metrics';
import { ResponseCache } from './response-cache';
import { registerUploadRoute, uploaderOf } from './uploads';
import {
  allowedHostNames,
  hostNameOf,
  isLoopbackHost,
  isSameOrigin,
  presentedToken,
  TOKEN_COOKIE,
  tokensEqual,
} from './security';

export interface DaemonOptions {
  core: CoreApi;
  logger: Logger;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Required when `host` is not loopback; `startDaemon` refuses to bind beyond loopback without one. */
  token?: string;
  /** Extra Host names to accept (a DNS name that points at this machine). */
  allowHosts?: readonly string[];
  /** The built dashboard (`out/renderer`); when absent, `/` explains how to build it. */
  dashboardDir?: string;
  /** Bytes; bounds every request body. */
  bodyLimit?: number;
  /** Bytes; bounds one `POST /api/uploads` file (default 256 MiB). */
  uploadLimit?: number;
}

export interface Daemon {
  readonly url: string;
  readonly port: number;
  /** Every route the daemon answers, for the route-table security test and the docs. */
  readonly routes: readonly { method: string; url: string }[];
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Kept importable from here for existing callers; the policy itself lives in the shared contract. */
export { CONTENT_SECURITY_POLICY };

const WS_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const WS_PING_MS = 30_000;

/**
 * The headless daemon: `POST /api/rpc/:method`, the contract's REST aliases, the event stream
 * on `/ws`, and the dashboard. Every request passes the same gate: Host allowlist (403),
 * same-origin for browsers (403), and the token when one is configured (401).
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { core, logger, host, port } = options;
  if (!isLoopbackHost(host) && !options.token) {
    throw new Error(`Refusing to listen on ${host} without a token: anyone on the network could use the API`);
  }
  const allowed = allowedHostNames(host, options.allowHosts);
  const token = options.token;

  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // The only body we parse is JSON: a cross-site form or text/plain POST gets 415, never a call.
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, {});
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new ApiError('invalid_input', 'Request body is not valid JSON'), undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.code === 'internal') logger.error('request failed', { url: request.url, error });
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ApiError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.addHook('onRequest', async (request, reply) => {
    setSecurityHeaders(reply);
    const isUpgrade = request.headers.upgrade?.toLowerCase() === 'websocket';
    const refuse = (error: ApiError): FastifyReply => {
      // A refused upgrade's socket is not tracked by the HTTP server: close it ourselves, or it
      // lingers (and keeps `close()` waiting) after the error response is written.
      if (isUpgrade) reply.raw.once('finish', () => request.raw.socket.destroy());
      return sendError(reply.header('connection', 'close'), error);
    };
    const hostName = hostNameOf(request.headers.host);
    if (!hostName || !allowed.has(hostName)) return refuse(new ApiError('forbidden', 'Host not allowed'));
    const mutating = request.method !== 'GET' && request.method !== 'HEAD';
    if ((isUpgrade || mutating) && !isSameOrigin(request.headers.origin, request.headers.host)) {
      return refuse(new ApiError('forbidden', 'Cross-origin request refused'));
    }
    if (token && !isLoginRequest(request) && !tokensEqual(presentedToken(request.headers), token)) {
      return refuse(new ApiError('unauthorized', 'Missing or wrong token (Authorization: Bearer <token>)'));
    }
    return undefined;
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  const call = (method: string, input: unknown): Promise<unknown> =>
    dispatch(core, method, input, { transport: 'http' }, {
      onInternalError: (m, error) => logger.error('handler failed', { method: m, error }),
    });
  // Answers that only change with an event (predictions.current: 2 MB for 1,000 servers) are
  // serialised once per event, not once per request.
  const cache = new ResponseCache(core.events);
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    method: string,
    input: unknown,
  ): Promise<FastifyReply> => {
    reply.header('cache-control', 'no-store');
    if (isMethod(method) && ResponseCache.cacheable(method)) {
      const gzipOk = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      const { body, encoding } = await cache.answer(method, input, gzipOk, () => call(method, input));
      reply.header('vary', 'accept-encoding');
      if (encoding) reply.header('content-encoding', encoding);
      return reply.type('application/json; charset=utf-8').send(body);
    }
    return reply.send(await call(method, input));
  };

  app.post<{ Params: { method: string } }>('/api/rpc/:method', async (request, reply) =>
    answer(request, reply, request.params.method, request.body),
  );

  // File uploads for import.check / import.commit (issue 9): raw bytes, streamed to the data dir.
  const uploader = uploaderOf(core);
  if (uploader) await registerUploadRoute(app, uploader, options.uploadLimit);

  // The seed's REST paths: thin aliases over the same dispatch.
  for (const method of METHODS) {
    const rest = (api[method] as { rest?: { method: 'GET'; path: string } }).rest;
    if (!rest) continue;
    app.get(rest.path, async (request, reply) =>
      answer(request, reply, method, { ...(request.query as object), ...(request.params as object) }),
    );
  }

  // Prometheus scrapes: plain text, not JSON-RPC; behind the same Host/token gate as every GET.
  app.get('/metrics', async (_request, reply) => {
    const ask = (method: 'system.health' | 'predictions.current' | 'alerts.active'): Promise<unknown> =>
      dispatch(core, method, {}, { transport: 'http' }, {
        onInternalError: (m, error) => logger.error('handler failed', { method: m, error }),
      });
    const [health, predictions, alerts] = await Promise.all([
      ask('system.health'),
      ask('predictions.current'),
      ask('alerts.active'),
    ]);
    const text = renderMetrics({
      health: health as Health,
      predictions: predictions as CurrentPredictions,
      alerts: alerts as ActiveAlerts,
      eventLoop: eventLoop.snapshot(),
    });
    return reply.header('cache-control', 'no-store').type(PROMETHEUS_CONTENT_TYPE).send(text);
  });

  app.get('/ws', { websocket: true }, (socket: WebSocket) => {
    const send = (message: EventMessage): void => {
      if (socket.readyState !== socket.OPEN) return;
      // A client that stops reading must not make us buffer without bound.
      if (socket.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
        socket.terminate();
        return;
      }
      socket.send(JSON.stringify({ type: 'event', ...message }));
    };
    const unsubscribe = core.events.onAny(send);
    let alive = true;
    socket.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, WS_PING_MS);
    socket.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
    socket.on('error', () => socket.terminate());
    // Greet with the current health so the indicator turns green without waiting for a beat.
    void dispatch(core, 'system.health', {}, { transport: 'http' }).then(
      (payload) => send({ name: 'health.updated', payload } as EventMessage),
      (error: unknown) => logger.warn('health on connect failed', { error }),
    );
  });

  if (token) {
    // `/?token=…` once, from the URL the daemon printed: sets an HttpOnly cookie, then clean URL.
    app.get('/login', async (request, reply) => {
      const presented = (request.query as { token?: unknown }).token;
      if (typeof presented !== 'string' || !tokensEqual(presented, token)) {
        return sendError(reply, new ApiError('unauthorized', 'Wrong token'));
      }
      return reply
        .header('set-cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
        .redirect('/', 303);
    });
  }

  const dashboardDir = options.dashboardDir;
  if (dashboardDir && existsSync(join(dashboardDir, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: dashboardDir,
      index: 'index.html',
      wildcard: true,
      setHeaders: (res, path) => {
        // Vite names assets by content hash: cache them for good; never cache index.html.
        res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    app.get('/', async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built. Run `npm run build` (or start with `npm run serve`, which builds it).\n'),
    );
  }

  // Measured from the moment the daemon listens until close(); a failed listen leaves nothing running.
  const eventLoop = new EventLoopDelayMonitor();
  try {
    await app.listen({ host, port });
  } catch (error) {
    eventLoop.stop();
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${boundPort}`;
  logger.info('daemon listening', { url, methods: METHODS.length, auth: token ? 'token' : 'loopback-only' });

  return {
    url,
    port: boundPort,
    routes,
    app,
    close: async () => {
      eventLoop.stop();
      for (const client of app.websocketServer.clients) client.terminate();
      await app.close();
      cache.close();
    },
  };
}

function isLoginRequest(request: FastifyRequest): boolean {
  return request.method === 'GET' && request.url.split('?')[0] === '/login';
}

function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
}

function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.httpStatus).header('cache-control', 'no-store').type('application/json').send(error.toJSON());
}

/** Fastify's own errors (body too large, bad media type, bad JSON) become typed API errors. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = (error as { statusCode?: number }).statusCode;
  const message = (error as { message?: string }).message ?? 'Request failed';
  if (status === 413) return new ApiError('payload_too_large', 'Request body too large');
  if (status === 415) return new ApiError('unsupported_media_type', 'Content-Type must be application/json');
  if (status !== undefined && status >= 400 && status < 500) return new ApiError('invalid_input', message);
  return new ApiError('internal', 'Internal error');
}
