import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { AppError } from '../../errors/app-error.js';
import { draftNotFound } from '../../orchestration/draft-cycle.js';
import { createDraft, getDraft, listDrafts, listRevisions } from '../../orchestration/draft-store.js';
import type { Orchestrator } from '../../orchestration/orchestrator.js';
import { patterns } from '../../sessions/session-rules.js';
import { decodeCursor, encodeCursor, idParam, intParam } from '../query-schemas.js';
import type { AppServer } from '../server.js';

const security = [{ adminToken: [] }];

const draftBody = z.strictObject({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1).max(200_000),
  context: z
    .union([
      z.string().max(8000),
      z
        .record(z.string(), z.unknown())
        .refine((v) => JSON.stringify(v).length <= 8000, 'must be at most 8000 characters as JSON'),
    ])
    .optional(),
});

const orchestrateBody = z.strictObject({
  draftId: z.uuid(),
  channel: idParam(patterns.channel, 'channel').default('draft_cycle'),
  externalSessionId: z
    .string()
    .trim()
    .regex(patterns.externalSessionId, 'must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$')
    .nullish(),
  promptSeed: z.string().max(4000).nullish(),
  metadata: z
    .record(z.string().max(128), z.unknown())
    .refine(
      (m) => Object.keys(m).length <= 64 && JSON.stringify(m).length <= 16384,
      'must have at most 64 keys and 16 KiB',
    )
    .optional(),
  async: z.boolean().optional(),
  waitMs: z.number().int().min(0).max(300_000).optional(),
});

function isDraftCursor(v: unknown): v is { u: string; i: string } {
  const c = v as { u?: unknown; i?: unknown } | null;
  return (
    typeof c?.u === 'string' &&
    !Number.isNaN(Date.parse(c.u)) &&
    typeof c.i === 'string' &&
    /^[0-9a-f-]{36}$/.test(c.i)
  );
}

/** Drafts (SPEC §6) and the orchestrate endpoint. */
export function registerDraftRoutes(
  app: AppServer,
  deps: { database: Database; orchestrator: Orchestrator; defaultWaitMs: number },
): void {
  app.post(
    '/api/admin/drafts',
    {
      config: { scope: 'operate', audit: 'drafts.create' },
      schema: { tags: ['drafts'], security, summary: 'Create a draft', body: draftBody },
    },
    async (request, reply) => {
      const draft = await deps.database.transaction((tx) => createDraft(tx, request.body));
      return reply.status(201).send({ draft });
    },
  );

  app.get(
    '/api/admin/drafts',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['drafts'],
        security,
        summary: 'List drafts, most recently updated first',
        querystring: z.strictObject({
          limit: intParam(1, 200).default(50),
          cursor: z.string().max(512).optional(),
        }),
      },
    },
    async (request) => {
      const after =
        request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor, isDraftCursor);
      if (request.query.cursor !== undefined && !after) {
        throw new AppError('ADMIN_INVALID_QUERY', 'query.cursor: not a cursor this endpoint issued', {
          details: { fields: ['cursor'] },
        });
      }
      const rows = await listDrafts(
        deps.database.orm,
        request.query.limit,
        after ? { updatedAt: after.u, id: after.i } : undefined,
      );
      const page = rows.slice(0, request.query.limit);
      const last = page.at(-1);
      return {
        drafts: page,
        nextCursor:
          rows.length > request.query.limit && last ? encodeCursor({ u: last.updatedAt, i: last.id }) : null,
      };
    },
  );

  app.get(
    '/api/admin/drafts/:id',
    {
      config: { scope: 'read', validationCodes: { params: 'ADMIN_INVALID_QUERY' } },
      schema: {
        tags: ['drafts'],
        security,
        summary: 'A draft with its revisions',
        params: z.object({ id: z.uuid() }),
      },
    },
    async (request) => {
      const draft = await getDraft(deps.database.orm, request.params.id);
      if (!draft) throw draftNotFound(request.params.id);
      return { draft, revisions: await listRevisions(deps.database.orm, draft.id) };
    },
  );

  app.post(
    '/api/admin/agent-gateway/orchestrate',
    {
      config: { scope: 'operate', audit: 'orchestrate' },
      schema: {
        tags: ['orchestration'],
        security,
        summary: 'Run a draft cycle (critic → maker → judge) as a durable job',
        body: orchestrateBody,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await deps.orchestrator.start({
        draftId: body.draftId,
        channel: body.channel,
        externalSessionId: body.externalSessionId,
        promptSeed: body.promptSeed,
        metadata: body.metadata,
        async: body.async,
        waitMs: body.waitMs ?? deps.defaultWaitMs,
      });
      if (result.kind === 'accepted') {
        return reply
          .status(202)
          .send({ sessionId: result.sessionId, runId: result.runId, status: result.status });
      }
      const { kind: _kind, ...finished } = result;
      return reply.status(201).send(finished);
    },
  );

  app.get(
    '/api/admin/agent-gateway/runs/:id',
    {
      config: { scope: 'read', validationCodes: { params: 'ADMIN_INVALID_QUERY' } },
      schema: {
        tags: ['orchestration'],
        security,
        summary: 'An orchestration run with its steps',
        params: z.object({ id: z.uuid() }),
      },
    },
    async (request) => deps.orchestrator.describe(request.params.id),
  );
}
