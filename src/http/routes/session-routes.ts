import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import { publicSession, type SessionRecord, sessionHealth } from '../../sessions/session-model.js';
import { isReservedEventType, patterns, SYSTEM_ROLE } from '../../sessions/session-rules.js';
import type { SessionService } from '../../sessions/session-service.js';
import { boolParam, decodeCursor, encodeCursor, idParam, intParam, textParam } from '../query-schemas.js';
import type { AppServer } from '../server.js';

const PREFIX = '/api/admin/agent-gateway/sessions';
const tags = ['sessions'];
const security = [{ adminToken: [] }];

const sourceParam = z.enum(['db', 'memory']).default('db');
const idParams = z.object({
  id: z.string().regex(patterns.sessionId, 'must match ^ags-[a-z0-9][a-z0-9-]{7,95}$'),
});
const sessionIdCodes = { params: 'ADMIN_INVALID_SESSION_ID' } as const;

const role = idParam(patterns.role, 'role');
const channel = idParam(patterns.channel, 'channel');
const metadata = z
  .record(z.string().max(128), z.unknown())
  .refine((m) => Object.keys(m).length <= 64, 'must have at most 64 keys')
  .refine((m) => JSON.stringify(m).length <= 16384, 'must be at most 16 KiB as JSON');

const listQuery = z.strictObject({
  source: sourceParam,
  limit: intParam(1, 200).default(50),
  channel: channel.optional(),
  provider: idParam(patterns.providerId, 'provider id').optional(),
  connector: idParam(patterns.providerId, 'connector id').optional(),
  status: z.enum(['active', 'closed']).optional(),
  staleMinutes: intParam(1, 10080).optional(),
  cursor: z.string().max(512).optional(),
});

const createBody = z.strictObject({
  channel,
  draftId: z.uuid().nullish(),
  externalSessionId: z
    .string()
    .trim()
    .regex(patterns.externalSessionId, 'must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$')
    .nullish(),
  roles: z.array(role).max(16).optional(),
  metadata: metadata.optional(),
});

const eventsQuery = z.strictObject({
  source: sourceParam,
  limit: intParam(1, 1000).default(50),
  cursor: z.string().max(512).optional(),
  eventType: z
    .string()
    .trim()
    .max(1300)
    .transform((v) => [
      ...new Set(
        v
          .split(',')
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      ),
    ])
    .refine(
      (types) => types.length <= 10 && types.every((t) => patterns.eventType.test(t)),
      'must be up to 10 event types',
    )
    .optional(),
  eventQuery: textParam(200).optional(),
  fromRole: role.optional(),
  toRole: role.optional(),
  provider: idParam(patterns.providerId, 'provider id').optional(),
  connector: idParam(patterns.providerId, 'connector id').optional(),
  includeArchived: boolParam.optional(),
});

const appendBody = z.strictObject({
  fromRole: role,
  toRole: role.nullish(),
  type: idParam(patterns.eventType, 'event type'),
  payload: z.unknown().optional(),
});

// Fastify hands a missing body to the validator as null: both are "no body" here.
const compactBody = z.strictObject({ keepRecent: z.number().int().min(1).max(1000).default(40) }).nullish();
const closeBody = z.strictObject({ reason: z.string().trim().min(1).max(200).optional() }).nullish();

function isSessionCursor(v: unknown): v is { u: string; i: string } {
  const c = v as { u?: unknown; i?: unknown } | null;
  return (
    typeof c?.u === 'string' && !Number.isNaN(Date.parse(c.u)) && typeof c.i === 'string' && c.i.length <= 100
  );
}

function isSeqCursor(v: unknown): v is { s: number } {
  const c = v as { s?: unknown } | null;
  return typeof c?.s === 'number' && Number.isSafeInteger(c.s) && c.s > 0;
}

function badCursor(): AppError {
  return new AppError('ADMIN_INVALID_QUERY', 'query.cursor: not a cursor this endpoint issued', {
    details: { fields: ['cursor'] },
  });
}

/** SPEC §5 session endpoints: thin handlers over SessionService. */
export function registerSessionRoutes(app: AppServer, sessions: SessionService): void {
  const listItem = (s: SessionRecord, now: number) => {
    const { stale, needsAttention } = sessionHealth(s, sessions.staleMinutes, now);
    return { ...publicSession(s), stale, needsAttention };
  };

  app.get(
    PREFIX,
    {
      config: { scope: 'read' },
      schema: { tags, security, summary: 'List sessions', querystring: listQuery },
    },
    async (request) => {
      const q = request.query;
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isSessionCursor);
      if (q.cursor !== undefined && !after) throw badCursor();
      const { sessions: rows, hasMore } = await sessions.list(
        {
          limit: q.limit,
          channel: q.channel,
          provider: q.provider,
          connector: q.connector,
          status: q.status,
          staleMinutes: q.staleMinutes,
          after: after ? { updatedAt: after.u, id: after.i } : undefined,
        },
        q.source,
      );
      const last = rows.at(-1);
      const now = Date.now();
      return {
        source: q.source,
        filters: {
          limit: q.limit,
          channel: q.channel ?? null,
          provider: q.provider ?? null,
          connector: q.connector ?? null,
          status: q.status ?? null,
          staleMinutes: q.staleMinutes ?? null,
        },
        sessions: rows.map((s) => listItem(s, now)),
        nextCursor: hasMore && last ? encodeCursor({ u: last.updatedAt, i: last.id }) : null,
      };
    },
  );

  app.post(
    PREFIX,
    {
      config: { scope: 'operate', audit: 'sessions.create' },
      schema: {
        tags,
        security,
        summary: 'Create a session (idempotent on channel + externalSessionId)',
        body: createBody,
      },
    },
    async (request, reply) => {
      const { session, created } = await sessions.create(request.body);
      return reply.status(201).send({ session: publicSession(session), created });
    },
  );

  app.get(
    `${PREFIX}/:id`,
    {
      config: { scope: 'read', validationCodes: sessionIdCodes },
      schema: {
        tags,
        security,
        summary: 'Session with its latest events (chronological)',
        params: idParams,
        querystring: z.strictObject({
          source: sourceParam,
          limit: intParam(1, 1000).default(200),
          includeArchived: boolParam.optional(),
        }),
      },
    },
    async (request) => {
      const { limit, includeArchived, source } = request.query;
      const { session, events } = await sessions.detail(
        request.params.id,
        limit,
        includeArchived ?? false,
        source,
      );
      return { source, session: listItem(session, Date.now()), events };
    },
  );

  app.get(
    `${PREFIX}/:id/events`,
    {
      config: { scope: 'read', validationCodes: sessionIdCodes },
      schema: {
        tags,
        security,
        summary: 'Events of a session, newest first',
        params: idParams,
        querystring: eventsQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isSeqCursor);
      if (q.cursor !== undefined && !before) throw badCursor();
      const filters = {
        eventType: q.eventType ?? null,
        eventQuery: q.eventQuery ?? null,
        fromRole: q.fromRole ?? null,
        toRole: q.toRole ?? null,
        provider: q.provider ?? null,
        connector: q.connector ?? null,
        includeArchived: q.includeArchived ?? false,
      };
      const page = await sessions.events(
        request.params.id,
        {
          limit: q.limit,
          beforeSeq: before?.s,
          types: q.eventType,
          eventQuery: q.eventQuery,
          fromRole: q.fromRole,
          toRole: q.toRole,
          provider: q.provider,
          connector: q.connector,
          includeArchived: q.includeArchived,
        },
        q.source,
      );
      return {
        source: q.source,
        session: publicSession(page.session),
        filters,
        total: page.total,
        limit: q.limit,
        events: page.events,
        nextCursor: page.nextBeforeSeq === null ? null : encodeCursor({ s: page.nextBeforeSeq }),
      };
    },
  );

  app.get(
    `${PREFIX}/:id/summary`,
    {
      config: { scope: 'read', validationCodes: sessionIdCodes },
      schema: {
        tags,
        security,
        summary: 'Session summary from counters',
        params: idParams,
        querystring: z.strictObject({ source: sourceParam }),
      },
    },
    async (request) => ({
      source: request.query.source,
      summary: await sessions.summary(request.params.id, request.query.source),
    }),
  );

  app.get(
    `${PREFIX}/:id/status`,
    {
      config: { scope: 'read', validationCodes: sessionIdCodes },
      schema: {
        tags,
        security,
        summary: 'Session status, staleness and attention',
        params: idParams,
        querystring: z.strictObject({ source: sourceParam, staleMinutes: intParam(1, 10080).optional() }),
      },
    },
    async (request) => ({
      source: request.query.source,
      status: await sessions.status(request.params.id, request.query.source, request.query.staleMinutes),
    }),
  );

  app.post(
    `${PREFIX}/:id/events`,
    {
      config: { scope: 'operate', audit: 'sessions.append', validationCodes: sessionIdCodes },
      schema: { tags, security, summary: 'Append an event', params: idParams, body: appendBody },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.fromRole === SYSTEM_ROLE || body.toRole === SYSTEM_ROLE) {
        throw new AppError(
          'AGENT_GATEWAY_ROLE_RESERVED',
          'The role "system" is written only by the gateway.',
          {
            details: { fields: [body.fromRole === SYSTEM_ROLE ? 'fromRole' : 'toRole'] },
          },
        );
      }
      if (isReservedEventType(body.type)) {
        throw new AppError(
          'AGENT_GATEWAY_EVENT_TYPE_RESERVED',
          `The event type "${body.type}" is written only by the gateway.`,
          {
            details: { fields: ['type'] },
          },
        );
      }
      const event = await sessions.append(request.params.id, {
        fromRole: body.fromRole,
        toRole: body.toRole ?? null,
        type: body.type,
        payload: body.payload,
      });
      return reply.status(201).send({ event });
    },
  );

  app.post(
    `${PREFIX}/:id/compact`,
    {
      config: { scope: 'operate', audit: 'sessions.compact', validationCodes: sessionIdCodes },
      schema: {
        tags,
        security,
        summary: 'Move all but the newest events to the archive',
        params: idParams,
        body: compactBody,
      },
    },
    async (request) => {
      const result = await sessions.compact(request.params.id, request.body?.keepRecent ?? 40);
      return { ...result, session: publicSession(result.session) };
    },
  );

  app.post(
    `${PREFIX}/:id/close`,
    {
      config: { scope: 'operate', audit: 'sessions.close', validationCodes: sessionIdCodes },
      schema: { tags, security, summary: 'Close a session (idempotent)', params: idParams, body: closeBody },
    },
    async (request) => {
      const { session, closedNow } = await sessions.close(
        request.params.id,
        request.body?.reason ?? 'admin_close',
      );
      return { session: publicSession(session), closedNow };
    },
  );
}
