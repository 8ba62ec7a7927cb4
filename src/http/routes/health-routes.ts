import type { Readiness } from '../../health/readiness.js';
import type { AppServer } from '../server.js';

export interface HealthRouteDeps {
  version: string;
  startedAt: number;
  readiness: Readiness;
}

/** `/health` (process can serve) and `/ready` (dependencies answer; 503 with the failing parts). */
export function registerHealthRoutes(app: AppServer, deps: HealthRouteDeps): void {
  app.get('/health', { schema: { tags: ['health'], summary: 'Liveness' } }, async () => ({
    status: 'ok',
    version: deps.version,
    uptimeSec: Math.round((Date.now() - deps.startedAt) / 1000),
  }));

  app.get(
    '/ready',
    { schema: { tags: ['health'], summary: 'Readiness of database, Redis and migrations' } },
    async (_req, reply) => {
      const report = await deps.readiness.check();
      return reply.status(report.status === 'ok' ? 200 : 503).send(report);
    },
  );
}
