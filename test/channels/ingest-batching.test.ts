import { sql } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestCommitBatcher } from '../../src/channels/ingest-batcher.js';
import { queryOne, queryRows } from '../../src/db/database.js';
import { newEventId } from '../../src/sessions/event-store.js';
import { sessionIdFor } from '../../src/sessions/session-rules.js';
import { INGEST_PATH, signedHeaders } from '../helpers/ingest-client.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SECRET = 'batching-secret-0123456789abcdef';

/**
 * Group commit (IngestCommitBatcher): requests in flight share one transaction and, for existing sessions, one
 * statement. What each sender sees must be exactly what it would see alone.
 */
describe('ingest group commit', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      listen: true,
      env: { AGENT_GATEWAY_WEBHOOK_SECRET: SECRET, AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '100000' },
    });
  });
  afterAll(async () => t?.close());

  const send = async (body: Record<string, unknown>) => {
    const raw = JSON.stringify({ connectorId: 'batch', channel: 'web-chat', fromRole: 'observer', ...body });
    const res = await request(`${t.url}${INGEST_PATH}`, {
      method: 'POST',
      headers: signedHeaders(raw, { secret: SECRET }),
      body: raw,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };

  it('a mixed burst: existing, new and closed sessions, concurrent duplicates, a bad body — each answered as if alone', async () => {
    // 10 existing sessions (one event each), one closed session.
    for (let r = 0; r < 10; r++)
      expect((await send({ eventId: `seed-${r}`, externalSessionId: `old-${r}` })).status).toBe(201);
    const closed = await send({ eventId: 'seed-closed', externalSessionId: 'closed-room' });
    const closedId = closed.body.sessionId as string;
    expect(
      (await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${closedId}/close`, {})).statusCode,
    ).toBe(200);

    const jobs: { kind: string; body: Record<string, unknown> }[] = [];
    for (let i = 0; i < 100; i++)
      jobs.push({
        kind: 'old',
        body: { eventId: `old-${i}`, externalSessionId: `old-${i % 10}`, payload: { i } },
      });
    for (let i = 0; i < 30; i++)
      jobs.push({
        kind: 'new',
        body: { eventId: `new-${i}`, externalSessionId: `new-${i % 5}`, payload: { i } },
      });
    for (let i = 0; i < 10; i++)
      jobs.push({ kind: 'closed', body: { eventId: `closed-${i}`, externalSessionId: 'closed-room' } });
    for (let i = 0; i < 10; i++)
      jobs.push({
        kind: 'dup',
        body: { eventId: `old-${i * 7}`, externalSessionId: `old-${(i * 7) % 10}`, payload: { i: i * 7 } },
      });
    jobs.push({
      kind: 'nul',
      body: { eventId: 'nul-1', externalSessionId: 'old-1', payload: { text: 'a\u0000b' } },
    });
    const results = await Promise.all(jobs.map(async (job) => ({ ...job, res: await send(job.body) })));
    // They really were committed together.
    expect(t.gateway.ingest.commitStats.largest).toBeGreaterThan(1);
    expect(t.gateway.ingest.commitStats.fallbacks).toBe(0);
    // The events for existing, active sessions went through the one-statement path.
    expect(t.gateway.ingest.commitStats.singleStatement).toBeGreaterThan(0);

    const of = (kind: string) => results.filter((r) => r.kind === kind);
    expect(of('new').map((r) => r.res.status)).toEqual(Array(30).fill(201));
    expect(of('closed').map((r) => r.res.body.error)).toEqual(Array(10).fill('AGENT_GATEWAY_SESSION_CLOSED'));
    expect(of('closed').map((r) => r.res.status)).toEqual(Array(10).fill(409));
    expect(of('nul')[0]!.res).toMatchObject({ status: 400, body: { error: 'INVALID_JSON' } });
    // Each duplicated event id: exactly one 201 among its two senders, the other a replay of the same event.
    const byEvent = new Map<string, { status: number; body: Record<string, unknown> }[]>();
    for (const r of [...of('old'), ...of('dup')]) {
      const list = byEvent.get(r.body.eventId as string) ?? [];
      list.push(r.res);
      byEvent.set(r.body.eventId as string, list);
    }
    for (const [eventId, answers] of byEvent) {
      expect(
        answers.filter((a) => a.status === 201),
        eventId,
      ).toHaveLength(1);
      const replays = answers.filter((a) => a.status === 200);
      expect(replays).toHaveLength(answers.length - 1);
      const applied = answers.find((a) => a.status === 201)!;
      for (const replay of replays) {
        expect(replay.body).toMatchObject({ deduplicated: true, sessionId: applied.body.sessionId });
        expect((replay.body.event as { id: string }).id).toBe((applied.body.event as { id: string }).id);
      }
    }

    // The database agrees: gap-free seq per session, one event per applied id, nothing for refused requests.
    const orm = t.gateway.database.orm;
    const rows = await queryRows<{ id: string; last_seq: number; n: number; max: number }>(
      orm,
      sql`select s.id, s.last_seq, count(e.seq)::int as n, max(e.seq)::int as max
          from sessions s left join session_events e on e.session_id = s.id group by s.id, s.last_seq`,
    );
    for (const row of rows) {
      expect(row.n, row.id).toBe(row.last_seq);
      expect(row.max, row.id).toBe(row.last_seq);
    }
    const old0 = rows.find((r) => r.id === sessionIdFor('web-chat', 'old-0'))!;
    expect(old0.n).toBe(1 + 10);
    const newRooms = rows.filter((r) =>
      [0, 1, 2, 3, 4].some((k) => r.id === sessionIdFor('web-chat', `new-${k}`)),
    );
    expect(newRooms.map((r) => r.n)).toEqual([6, 6, 6, 6, 6]);
    const refused = await queryOne<{ n: number }>(
      orm,
      sql`select count(*)::int as n from ingest_dedup where event_id like 'closed-%' or event_id = 'nul-1'`,
    );
    expect(refused?.n).toBe(0);
    const applied = await queryOne<{ n: number }>(
      orm,
      sql`select count(*)::int as n from session_events where connector_id = 'batch'`,
    );
    expect(applied?.n).toBe(10 + 1 + 100 + 30);
    // The batched statement's counters and live-stream bookkeeping match a plain append's.
    const counters = await queryOne<{ n: number }>(
      orm,
      sql`select count::int as n from session_counters where session_id = ${old0.id} and dimension = 'connector' and key = 'batch'`,
    );
    expect(counters?.n).toBe(11);
  });

  it('a batch whose shared transaction fails is retried request by request: one failure, the rest commit', async () => {
    const { database, sessions } = t.gateway;
    const batcher = new IngestCommitBatcher({ database, sessions }, { maxInFlight: 1, maxBatch: 64 });
    const commit = (i: number, channel: string | null) => {
      const sessionId = sessionIdFor('fallback', `room-${i}`);
      return batcher.commit({
        claim: {
          connectorId: 'batch',
          eventId: `fallback-${i}`,
          adapter: 'external_webhook',
          channel: 'fallback',
          sessionId,
          externalSessionId: `room-${i}`,
          sessionEventId: newEventId(),
        },
        event: { fromRole: 'observer', type: 'note', payload: { i }, connectorId: 'batch' },
        // A NULL channel breaks the sessions row's NOT NULL constraint: a database error inside the batch.
        newSession: {
          id: sessionId,
          channel: channel as string,
          externalSessionId: `room-${i}`,
          connectorId: 'batch',
        },
      });
    };
    const settled = await Promise.allSettled(
      [0, 1, 2, 3, 4, 5].map((i) => commit(i, i === 3 ? null : 'fallback')),
    );
    expect(batcher.stats).toMatchObject({ batches: 1, requests: 6, fallbacks: 1 });
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const rows = await queryRows<{ event_id: string }>(
      database.orm,
      sql`select event_id from ingest_dedup where event_id like 'fallback-%' order by event_id`,
    );
    expect(rows.map((r) => r.event_id)).toEqual([
      'fallback-0',
      'fallback-1',
      'fallback-2',
      'fallback-4',
      'fallback-5',
    ]);
  });

  it('a single batch statement that fails writes nothing; its requests take the general path, the bad one alone fails', async () => {
    const { database, sessions } = t.gateway;
    const batcher = new IngestCommitBatcher({ database, sessions }, { maxInFlight: 1, maxBatch: 64 });
    const ids = [0, 1, 2, 3].map((i) => sessionIdFor('onestatement', `room-${i}`));
    for (const [i, id] of ids.entries())
      await sessions.create({
        id,
        channel: 'onestatement',
        externalSessionId: `room-${i}`,
        connectorId: 'batch',
      });
    const commit = (i: number) =>
      batcher.commit({
        claim: {
          connectorId: 'batch',
          eventId: `onestatement-${i}`,
          adapter: 'external_webhook',
          channel: 'onestatement',
          sessionId: ids[i]!,
          externalSessionId: `room-${i}`,
          sessionEventId: newEventId(),
        },
        // A NULL role breaks the event row's NOT NULL constraint inside the one statement of existing sessions.
        event: {
          fromRole: (i === 2 ? null : 'observer') as string,
          type: 'note',
          payload: { i },
          connectorId: 'batch',
        },
        newSession: {
          id: ids[i]!,
          channel: 'onestatement',
          externalSessionId: `room-${i}`,
          connectorId: 'batch',
        },
      });
    const settled = await Promise.allSettled([0, 1, 2, 3].map(commit));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    // Not counted as a single-statement batch; the general path's transaction failed too and went request by request.
    expect(batcher.stats).toMatchObject({ batches: 1, singleStatement: 0, fallbacks: 1 });
    const events = await queryRows<{ session_id: string; seq: number }>(
      database.orm,
      sql`select session_id, seq from session_events where connector_id = 'batch' and session_id like 'ags-%'
            and session_id in (${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )}) order by session_id`,
    );
    expect(events.map((e) => [e.session_id, e.seq])).toEqual(
      [ids[0], ids[1], ids[3]].sort().map((id) => [id, 1]),
    );
    const claims = await queryRows<{ event_id: string }>(
      database.orm,
      sql`select event_id from ingest_dedup where event_id like 'onestatement-%' order by event_id`,
    );
    expect(claims.map((r) => r.event_id)).toEqual(['onestatement-0', 'onestatement-1', 'onestatement-3']);
  });
});
