import { z } from 'zod';
import type { AiRuntime } from '../../runtime/ai-runtime.js';
import { parseDryRunInput } from '../../runtime/dry-run-input.js';
import type { AppServer } from '../server.js';

const PREFIX = '/api/admin/ai-runtime';
const tags = ['ai-runtime'];
const security = [{ adminToken: [] }];
const noQuery = z.strictObject({});

/** SPEC §4 runtime endpoints: profiles, health (always 200) and dry-run (operate scope, never mutates circuits). */
export function registerRuntimeRoutes(app: AppServer, runtime: AiRuntime): void {
  app.get(
    `${PREFIX}/profiles`,
    {
      config: { scope: 'read' },
      schema: { tags, security, summary: 'Role chains and provider states', querystring: noQuery },
    },
    async () => runtime.profiles(),
  );

  app.get(
    `${PREFIX}/health`,
    {
      config: { scope: 'read' },
      schema: {
        tags,
        security,
        summary: 'Runtime health snapshot (degraded when a role is blocked)',
        querystring: noQuery,
      },
    },
    async () => runtime.health(),
  );

  app.post(
    `${PREFIX}/dry-run`,
    {
      config: { scope: 'operate', audit: 'ai-runtime.dry-run' },
      schema: {
        tags,
        security,
        summary: 'Run a role once without changing circuits (network only with live: true)',
        description:
          'Body: { role, prompt (1–4000), timeoutMs? (1–120000), providersOverride? (≤ 10), simulateFailures? (≤ 10: "id", "id@profile" or { provider, code, latencyMs }), correlationId?, releaseRunId?, auditSessionId?, live? }.',
        querystring: noQuery,
      },
    },
    async (request) => runtime.dryRun(parseDryRunInput(request.body, runtime.definition)),
  );
}
