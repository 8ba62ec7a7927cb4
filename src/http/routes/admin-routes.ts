import { z } from 'zod';
import type { AuditStore } from '../../audit/audit-store.js';
import { intParam } from '../query-schemas.js';
import type { AppServer } from '../server.js';

/** Admin-only views: the audit trail of admin mutations. */
export function registerAdminRoutes(app: AppServer, audit: AuditStore): void {
  app.get(
    '/api/admin/audit',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        security: [{ adminToken: [] }],
        summary: 'Recent admin mutations (who, what, target, outcome)',
        querystring: z.strictObject({ limit: intParam(1, 500).default(100) }),
      },
    },
    async (request) => ({ entries: await audit.recent(request.query.limit) }),
  );
}
