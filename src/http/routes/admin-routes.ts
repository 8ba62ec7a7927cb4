import { z } from 'zod';
import type { AuditStore } from '../../audit/audit-store.js';
import { adminScopes } from '../../config/admin-tokens.js';
import { AdminAuth } from '../admin-auth.js';
import { intParam } from '../query-schemas.js';
import type { AppServer } from '../server.js';

/** Admin-only views (the audit trail) and the token's own identity. */
export function registerAdminRoutes(app: AppServer, audit: AuditStore): void {
  app.get(
    '/api/admin/whoami',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['admin'],
        security: [{ adminToken: [] }],
        summary: 'The presented token: its id, configured scopes and every scope it grants',
        description:
          'Scopes nest (admin ⊃ operate ⊃ read): `effectiveScopes` lists every scope this token passes. The console uses it to hide what the token cannot do.',
        querystring: z.strictObject({}),
      },
    },
    async (request) => {
      const principal = request.admin!;
      return {
        tokenId: principal.tokenId,
        scopes: principal.scopes,
        effectiveScopes: adminScopes.filter((scope) => AdminAuth.allows(principal, scope)),
      };
    },
  );

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
