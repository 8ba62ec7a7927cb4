import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { clusterMetrics, isClusterWorker } from '../../cluster/worker-link.js';
import { sha256 } from '../../config/admin-tokens.js';
import { AppError } from '../../errors/app-error.js';
import { patterns } from '../../sessions/session-rules.js';
import type { GatewayMetrics } from '../../telemetry/metrics.js';
import type { TelemetryService } from '../../telemetry/telemetry-service.js';
import { idParam, intParam } from '../query-schemas.js';
import type { AppServer } from '../server.js';

const tags = ['telemetry'];
const security = [{ adminToken: [] }];

const filters = {
  hours: intParam(1, 720).default(24),
  channel: idParam(patterns.channel, 'channel').optional(),
  provider: idParam(patterns.providerId, 'provider id').optional(),
  connector: idParam(patterns.providerId, 'connector id').optional(),
};

/** SPEC §8: the telemetry and adapters snapshots operators use to decide whether a release rolls back. */
export function registerTelemetryRoutes(app: AppServer, telemetry: TelemetryService): void {
  app.get(
    '/api/admin/agent-gateway/telemetry',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        security,
        summary: 'Sessions, events, attempts, health levels, usage and connectors over a window',
        querystring: z.strictObject({ ...filters, limit: intParam(1, 1000).default(200) }),
      },
    },
    async (request) => telemetry.telemetry(request.query),
  );

  app.get(
    '/api/admin/agent-gateway/adapters',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        security,
        summary: 'Adapter usage and error budget, ingest connectors, policies and profiles',
        querystring: z.strictObject(filters),
      },
    },
    async (request) => telemetry.adapters(request.query),
  );
}

/**
 * Prometheus exposition (SPEC §9): counts only, no identifiers. Open like most scrape targets unless METRICS_TOKEN is
 * set; then `Authorization: Bearer <token>` is required, compared over hashes in constant time like admin tokens.
 */
export function registerMetricsRoute(app: AppServer, metrics: GatewayMetrics, token?: string): void {
  const expected = token ? sha256(token) : undefined;
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'Prometheus metrics',
        hide: false,
        ...(expected ? { security: [{ metricsToken: [] }] } : {}),
      },
    },
    async (request, reply) => {
      if (expected) {
        const header = request.headers.authorization;
        const presented =
          typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : '';
        if (!presented || !timingSafeEqual(sha256(presented), expected))
          throw new AppError(
            'METRICS_TOKEN_INVALID',
            'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.',
          );
      }
      let body: string;
      if (isClusterWorker) {
        // This worker is one of AGW_WORKERS: the scrape must see all of them, not whichever took the connection.
        try {
          body = await clusterMetrics();
        } catch (error) {
          throw new AppError(
            'METRICS_UNAVAILABLE',
            `The workers' metrics could not be gathered: ${(error as Error).message}. Scrape again.`,
          );
        }
      } else body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
}
