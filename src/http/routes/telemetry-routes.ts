import { z } from 'zod';
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

/** Prometheus exposition (SPEC §9). Unauthenticated like most scrape targets: counts only, no identifiers. */
export function registerMetricsRoute(app: AppServer, metrics: GatewayMetrics): void {
  app.get(
    '/metrics',
    { schema: { tags: ['telemetry'], summary: 'Prometheus metrics', hide: false } },
    async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
}
