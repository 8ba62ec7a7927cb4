import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Database, queryRows } from '../../db/database.js';
import type { SessionEventBus } from '../../sessions/session-event-bus.js';
import { eventFromRow, type SessionEvent } from '../../sessions/session-model.js';
import { patterns } from '../../sessions/session-rules.js';
import type { SessionService } from '../../sessions/session-service.js';
import { intParam } from '../query-schemas.js';
import type { AppServer } from '../server.js';

const HEARTBEAT_MS = 15_000;
const PAGE = 500;

/** Events after `seq` from the live timeline and the archive (a resume may reach back past a compaction). */
async function eventsAfter(database: Database, sessionId: string, seq: number): Promise<SessionEvent[]> {
  const columns = sql`id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at`;
  const rows = await queryRows<Record<string, unknown>>(
    database.orm,
    sql`select * from (select ${columns} from session_events where session_id = ${sessionId} and seq > ${seq}
                       union all
                       select ${columns} from session_event_archive where session_id = ${sessionId} and seq > ${seq}) e
        order by seq limit ${PAGE}`,
  );
  return rows.map(eventFromRow);
}

/**
 * `GET …/sessions/:id/stream`: Server-Sent Events, `id:` = seq. A reconnect with `Last-Event-ID` replays what it
 * missed from the database, then follows live via NOTIFY (any replica's appends). Ends after `session_closed`.
 */
export function registerStreamRoutes(
  app: AppServer,
  deps: { database: Database; sessions: SessionService; bus: SessionEventBus },
): void {
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/api/admin/agent-gateway/sessions/:id/stream',
    {
      config: { scope: 'read', validationCodes: { params: 'ADMIN_INVALID_SESSION_ID' } },
      schema: {
        tags: ['sessions'],
        security: [{ adminToken: [] }],
        summary: 'Live timeline (Server-Sent Events); resume with Last-Event-ID',
        params: z.object({ id: z.string().regex(patterns.sessionId) }),
        querystring: z.strictObject({ lastEventId: intParam(0, 2_000_000_000).optional() }),
      },
    },
    async (request, reply) => {
      const session = await deps.sessions.get(request.params.id);
      const header = request.headers['last-event-id'];
      const fromHeader =
        typeof header === 'string' && /^\d{1,10}$/.test(header.trim()) ? Number(header.trim()) : undefined;
      let lastSent = fromHeader ?? request.query.lastEventId ?? 0;

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.write(`retry: 2000\n: session ${session.id}\n\n`);

      let ended = false;
      let pumping = false;
      let pending = true;
      const end = () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(heartbeat);
        open.delete(end);
        raw.end();
      };
      // One reader at a time: notifications only say "something new"; the pump reads everything after lastSent.
      const pump = async () => {
        pending = true;
        if (pumping) return;
        pumping = true;
        try {
          while (pending && !ended) {
            pending = false;
            let batch: SessionEvent[];
            do {
              batch = await eventsAfter(deps.database, session.id, lastSent);
              for (const event of batch) {
                if (ended) return;
                raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
                lastSent = event.seq;
                if (event.type === 'session_closed') {
                  end();
                  return;
                }
              }
            } while (batch.length === PAGE && !ended);
          }
        } catch (error) {
          request.log.warn(
            { err: { message: (error as Error).message } },
            'session stream read failed; retrying on next event',
          );
        } finally {
          pumping = false;
        }
      };
      const unsubscribe = deps.bus.subscribe(session.id, () => void pump());
      const heartbeat = setInterval(() => {
        raw.write(': heartbeat\n\n');
        void pump(); // also catches up if a notification was missed while the listener reconnected
      }, HEARTBEAT_MS);
      open.add(end);
      request.raw.on('close', end);
      await pump();
      // A closed session whose whole timeline the client already has: nothing more will come.
      if (session.status === 'closed' && lastSent >= session.lastSeq) end();
    },
  );
}
