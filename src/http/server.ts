import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import type { AuditStore } from '../audit/audit-store.js';
import { AppError } from '../errors/app-error.js';
import { AdminAuth } from './admin-auth.js';
import { sendAppError, toAppError } from './error-handler.js';
import { parseJsonBody } from './json-text.js';
import { redactLogObject } from './log-redaction.js';
import './http-types.js';

export interface ServerOptions {
  version: string;
  bodyLimitBytes: number;
  logLevel: string;
  logStream?: DestinationStream;
  auth: AdminAuth;
  audit: AuditStore;
  /** Filled with every route as it is registered (the auth sweep test walks it). */
  routes?: RouteSummary[];
}

export interface RouteSummary {
  method: string;
  url: string;
  scope?: string;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export type AppServer = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * The access log: one line per request when its response is sent — request id (logger binding), method, url,
 * status, response time — instead of Fastify's "incoming request" + "request completed" pair, half the log work on
 * every request. Fastify's other lines (errors, stream errors, unknown routes) are kept.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      req: { method: request.method, url: request.url },
      res: { statusCode: reply.statusCode },
      responseTime: reply.elapsedTime,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

/** The Fastify instance with everything every route shares: ids, parsing, auth, audit, errors, OpenAPI. */
export async function createServer(options: ServerOptions): Promise<AppServer> {
  const app = Fastify({
    logger: {
      level: options.logLevel,
      formatters: { log: redactLogObject },
      ...(options.logStream ? { stream: options.logStream } : {}),
    } as never,
    bodyLimit: options.bodyLimitBytes,
    logController: new AccessLog(),
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && requestIdPattern.test(header) ? header : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // The router rejects a malformed escape or an over-long path segment before any hook runs: answer in our shape.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      const invalidUrl = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      return sendAppError(
        reply,
        invalidUrl
          ? new AppError(
              'INVALID_URL',
              'The URL path has a malformed percent-escape or a segment longer than 200 characters.',
            )
          : toAppError(error, request),
      );
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Graceful shutdown with keep-alive clients: close() closes the connections idle at that moment, but a connection
  // whose request was still running becomes idle only when it answers, and the client keeps it open — the process
  // then waited for the shutdown watchdog. While closing, close every connection as soon as it goes idle.
  app.addHook('preClose', (done) => {
    const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
    sweep.unref();
    app.server.once('close', () => clearInterval(sweep));
    done();
  });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') options.routes?.push({ method, url: route.url, scope: route.config?.scope });
    }
  });

  // Keep the exact bytes (signatures are computed over them); an empty body is "no body", not an error.
  // JSON only: any other content type is a 415, never silently accepted as text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json/,
    { parseAs: 'buffer' },
    (request, body, done) => {
      const buffer = body as Buffer;
      request.rawBody = buffer;
      if (buffer.length === 0) return done(null, undefined);
      try {
        done(null, parseJsonBody(buffer.toString('utf8')));
      } catch (error) {
        done(error as AppError, undefined);
      }
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const scope = request.routeOptions.config?.scope;
    if (!scope) return;
    // Known before the scope check, so a denied mutation is still audited under its token id.
    request.admin = options.auth.authenticate(request.headers['x-admin-token']);
    if (!AdminAuth.allows(request.admin, scope)) {
      throw new AppError('ADMIN_TOKEN_SCOPE_DENIED', `This endpoint needs the "${scope}" scope.`);
    }
  });

  // Audit before the response leaves: a client that saw its mutation answered can already find the audit row.
  app.addHook('onSend', async (request, reply, payload) => {
    const action = request.routeOptions.config?.audit;
    if (!action || !request.admin) return payload;
    const params = request.params as Record<string, string> | undefined;
    try {
      await options.audit.record({
        tokenId: request.admin.tokenId,
        action,
        target: params?.id ?? null,
        method: request.method,
        path: request.routeOptions.url ?? request.url,
        statusCode: reply.statusCode,
        requestId: request.id,
      });
    } catch (error) {
      request.log.error({ err: error, action }, 'audit record failed');
    }
    return payload;
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.status >= 500) request.log.error({ err: error, code: appError.code }, 'request failed');
    return sendAppError(reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendAppError(
      reply,
      new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
    ),
  );

  await app.register(swagger, {
    openapi: {
      info: { title: 'Agent Gateway', version: options.version },
      components: {
        securitySchemes: {
          adminToken: { type: 'apiKey', in: 'header', name: 'x-admin-token' },
          gatewayApiKey: { type: 'http', scheme: 'bearer' },
          metricsToken: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  return app;
}
