import { newRequestId } from './request-id.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Profile } from '../../shared/policy-schema.js';
import { errorDialectOf, type RouteId } from '../../shared/wire-format.js';
import { GatewayError } from '../gateway-error.js';
import { createModelRouteHandler, type ModelRequestDeps } from '../proxy/handle-model-request.js';
import { MODEL_ROUTES } from '../proxy/route-spec.js';
import type { ErrorLogger } from './error-logger.js';
import { renderErrorBody } from './render-error.js';
import { createHostCheck, createOriginCheck, presentedClientKey } from './request-guards.js';

export interface GatewayAppOptions extends ModelRequestDeps {
  verifyClientKey: (presented: string | undefined) => boolean;
  /** Port the server listens on, for the Host check (known only after listen for port 0). */
  getPort: () => number;
  extraAllowedHosts?: readonly string[];
  bodyLimitBytes: number;
  logger: ErrorLogger | false;
  /** Models the profile allows, for `GET /v1/models`. */
  listModels: (profile: Profile) => { id: string; ownedBy: string }[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    routeId?: RouteId;
  }
}

function refuseRouteSchemas(): never {
  throw new Error('route JSON schemas are not used by the gateway: validate the body with its zod schema');
}

/**
 * The gateway's HTTP surface as a fastify app. Never listens: the CLI, the Electron shell and the
 * tests each start it their own way (tests mostly through real sockets).
 */
export function buildGatewayApp(opts: GatewayAppOptions): FastifyInstance {
  const serverOptions = {
    bodyLimit: opts.bodyLimitBytes,
    genReqId: () => newRequestId(),
    requestIdHeader: false as const,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    // Bodies are validated with zod at the route edge, never with route JSON schemas. Without these
    // factories fastify loads ajv and fast-json-stringify's compiler at boot: about 100 modules and
    // several MB of a laptop-resident process's memory, for nothing.
    schemaController: {
      compilersFactory: {
        buildValidator: refuseRouteSchemas,
        buildSerializer: refuseRouteSchemas,
      },
    },
  };
  // Fastify gets no logger: with one it builds a child logger for every request, which the hot
  // path would pay for without ever logging. Errors go to our own logger below.
  const app: FastifyInstance = Fastify({ ...serverOptions, logger: false });
  const log = opts.logger === false ? null : opts.logger;

  // Bodies are kept as bytes: a same-format request is forwarded byte for byte when unchanged.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) => done(null, body));

  const hostAllowed = createHostCheck(opts.getPort, opts.extraAllowedHosts);
  const originAllowed = createOriginCheck(hostAllowed);

  app.addHook('onRequest', (request, reply, done) => {
    // Every response names its request; model routes overwrite provider and model once chosen.
    reply.headers({ 'x-asc-request-id': request.id, 'x-asc-provider': 'none', 'x-asc-model': 'none' });
    if (!hostAllowed(request.headers.host)) {
      sendGatewayError(request, reply, new GatewayError('host_not_allowed', `Host "${request.headers.host ?? ''}" is not allowed: use http://127.0.0.1:${opts.getPort()}.`));
      return;
    }
    if (!originAllowed(request.headers.origin)) {
      sendGatewayError(request, reply, new GatewayError('host_not_allowed', `Requests from the web page ${request.headers.origin ?? ''} are not allowed.`));
      return;
    }
    // `HEAD /` and `GET /` are connectivity checks (Claude Code sends one) and reveal nothing.
    if (request.url === '/' || request.url.startsWith('/?')) {
      done();
      return;
    }
    if (!opts.verifyClientKey(presentedClientKey(request))) {
      sendGatewayError(
        request,
        reply,
        new GatewayError('unauthorized', 'Missing or wrong local client key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>" (print it with `asc key`).'),
      );
      return;
    }
    done();
  });


  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof GatewayError) {
      sendGatewayError(request, reply, error);
      return;
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
      sendGatewayError(request, reply, new GatewayError('body_too_large', `The request body is larger than the gateway's limit of ${opts.bodyLimitBytes} bytes.`));
      return;
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      sendGatewayError(request, reply, new GatewayError('invalid_request', error.message, { status: error.statusCode }));
      return;
    }
    log?.error({ reqId: request.id, err: { message: error.message, code: error.code } }, 'unhandled gateway error');
    sendGatewayError(request, reply, new GatewayError('internal_error', 'The gateway failed on this request; see its log.'));
  });

  app.setNotFoundHandler((request, reply) => {
    sendGatewayError(request, reply, new GatewayError('not_found', `No route ${request.method} ${request.url.split('?')[0]} on the ASC gateway.`));
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/',
    handler: async (_request, reply) => {
      reply.header('content-type', 'application/json');
      return '{"service":"asc-gateway","status":"ok"}';
    },
  });

  app.get('/v1/models', { config: { routeId: 'openai.models' } }, async (request, reply) => {
    const snapshot = opts.profiles.resolve(firstHeader(request.headers['x-asc-tenant']));
    const models = opts.listModels(snapshot.profile);
    reply.header('content-type', 'application/json');
    // Anthropic's SDK sends `anthropic-version`; answer in the list format it expects.
    if (request.headers['anthropic-version'] !== undefined) {
      return JSON.stringify({
        data: models.map((m) => ({ type: 'model', id: m.id, display_name: m.id, created_at: '1970-01-01T00:00:00Z' })),
        has_more: false,
        first_id: models[0]?.id ?? null,
        last_id: models[models.length - 1]?.id ?? null,
      });
    }
    return JSON.stringify({ object: 'list', data: models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.ownedBy })) });
  });

  for (const route of MODEL_ROUTES) {
    app.post(route.path, { config: { routeId: route.id } }, createModelRouteHandler(route, opts));
  }

  return app;
}

function sendGatewayError(request: FastifyRequest, reply: FastifyReply, err: GatewayError): void {
  const routeId = request.routeOptions.config?.routeId ?? guessRouteId(request.url);
  reply.code(err.status).headers(err.headers).header('content-type', 'application/json');
  void reply.send(JSON.stringify(renderErrorBody(errorDialectOf(routeId), err)));
}

/** Before routing (Host and auth checks) the route is not known yet: the path tells the dialect. */
function guessRouteId(url: string): RouteId {
  return url.startsWith('/v1/messages') ? 'anthropic.messages' : 'gateway';
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
