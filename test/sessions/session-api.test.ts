import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const S = '/api/admin/agent-gateway/sessions';

describe('sessions API', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      env: { AGENT_GATEWAY_AUTO_COMPACT_TRIGGER: '30', AGENT_GATEWAY_AUTO_COMPACT_KEEP_RECENT: '5' },
    });
  });
  afterAll(async () => t?.close());

  const post = (url: string, body?: unknown) => adminRequest(t, 'POST', url, body);
  const get = (url: string) => adminRequest(t, 'GET', url);
  async function newSession(body: Record<string, unknown> = { channel: 'web' }) {
    const res = await post(S, body);
    expect(res.statusCode).toBe(201);
    return res.json().session as { id: string; [k: string]: unknown };
  }
  async function append(id: string, body: Record<string, unknown>) {
    return post(`${S}/${id}/events`, body);
  }

  it('creates sessions with deterministic ids for external ids and is idempotent', async () => {
    const a = await post(S, {
      channel: ' Telegram ',
      externalSessionId: 'Chat-42',
      roles: ['Author', 'critic', 'critic'],
      metadata: { team: 'x' },
    });
    expect(a.statusCode).toBe(201);
    const session = a.json().session;
    // ags- + first 24 hex of sha1("telegram:chat-42")
    expect(session.id).toBe('ags-ff2ea8a5bf1a7a1d8c72da0b'.slice(0, 4) + session.id.slice(4));
    expect(session.id).toMatch(/^ags-[0-9a-f]{24}$/);
    expect(session).toMatchObject({
      channel: 'telegram',
      externalSessionId: 'Chat-42',
      status: 'active',
      eventCount: 0,
    });
    expect(a.json().created).toBe(true);
    const again = await post(S, { channel: 'telegram', externalSessionId: 'chat-42' });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ created: false, session: { id: session.id } });
    const { createHash } = await import('node:crypto');
    expect(session.id).toBe(
      `ags-${createHash('sha1').update('telegram:chat-42').digest('hex').slice(0, 24)}`,
    );
    const anon = await newSession();
    expect(anon.id).toMatch(/^ags-[0-9a-f-]{36}$/);
  });

  it('rejects invalid create bodies with ADMIN_INVALID_BODY naming the field', async () => {
    const cases: [unknown, string][] = [
      [{}, 'channel'],
      [{ channel: 'x' }, 'channel'],
      [{ channel: 'web', externalSessionId: '-bad' }, 'externalSessionId'],
      [{ channel: 'web', draftId: 'not-a-uuid' }, 'draftId'],
      [{ channel: 'web', roles: ['Bad Role'] }, 'roles'],
      [{ channel: 'web', extra: 1 }, 'extra'],
      [{ channel: 'web', metadata: [] }, 'metadata'],
    ];
    for (const [body, field] of cases) {
      const res = await post(S, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_BODY');
      expect(res.json().message).toContain(field);
    }
  });

  it('appends events with gap-free seq and reflects them in detail, events, status and summary', async () => {
    const s = await newSession({ channel: 'slack', externalSessionId: 'C1' });
    const texts = ["it's <b>&amp;</b>", 'ünïcödé 🎉', 'three'];
    for (const text of texts) {
      const res = await append(s.id, {
        fromRole: 'observer',
        toRole: 'author',
        type: 'observer_note',
        payload: { text },
      });
      expect(res.statusCode).toBe(201);
    }
    await append(s.id, {
      fromRole: 'critic',
      type: 'critique',
      payload: {
        selectedProvider: 'local-primary',
        attempts: [{ status: 'failed' }, { status: 'success' }],
      },
    });
    const detail = await get(`${S}/${s.id}`);
    expect(detail.statusCode).toBe(200);
    const events = detail.json().events;
    expect(events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[0].payload.text).toBe(texts[0]);
    expect(events[1].payload.text).toBe(texts[1]);
    expect(events[0].id).toMatch(/^age-[0-9a-f-]{36}$/);

    const list = await get(`${S}/${s.id}/events?limit=2`);
    expect(list.json()).toMatchObject({ total: 4, limit: 2 });
    expect(list.json().events.map((e: { seq: number }) => e.seq)).toEqual([4, 3]);
    const page2 = await get(`${S}/${s.id}/events?limit=2&cursor=${list.json().nextCursor}`);
    expect(page2.json().events.map((e: { seq: number }) => e.seq)).toEqual([2, 1]);
    expect(page2.json().nextCursor).toBeNull();

    const filtered = await get(
      `${S}/${s.id}/events?eventType=critique&fromRole=critic&provider=local-primary`,
    );
    expect(filtered.json().total).toBe(1);
    const search = await get(`${S}/${s.id}/events?eventQuery=${encodeURIComponent('ünïcödé')}`);
    expect(search.json().events.map((e: { seq: number }) => e.seq)).toEqual([2]);
    // PostgreSQL text cannot hold U+0000: a 400 naming the parameter, not a failed statement (found by fuzzing).
    const nul = await get(`${S}/${s.id}/events?eventQuery=a%00b`);
    expect(nul.statusCode).toBe(400);
    expect(nul.body).toContain('eventQuery');
    const toRole = await get(`${S}/${s.id}/events?toRole=author`);
    expect(toRole.json().total).toBe(3);

    const summary = (await get(`${S}/${s.id}/summary?source=db`)).json();
    expect(summary.source).toBe('db');
    expect(summary.summary.totals).toMatchObject({ eventCount: 4, uniqueEventTypes: 2, uniqueRoles: 2 });
    expect(summary.summary.byType).toEqual({ observer_note: 3, critique: 1 });
    expect(summary.summary.byRole).toEqual({ observer: 3, critic: 1 });
    expect(summary.summary.providerUsage).toEqual({ 'local-primary': 1 });
    expect(summary.summary.attemptStatus).toEqual({ success: 1, failed: 1, skipped_cooldown: 0 });
    expect(summary.summary.lastEvent.seq).toBe(4);

    const status = (await get(`${S}/${s.id}/status?source=db`)).json().status;
    expect(status).toMatchObject({
      sessionId: s.id,
      status: 'active',
      eventCount: 4,
      lastEventType: 'critique',
      stale: false,
      health: 'ok',
    });
  });

  it('keeps any JSON payload as sent: strings that are not JSON text, numbers, arrays, null', async () => {
    const s = await newSession({ channel: 'web', externalSessionId: 'payload-kinds' });
    const payloads = ['', 'S"GMg*@wV', '{"looks":"like json"}', 42, [1, 'two'], null, true];
    for (const payload of payloads) {
      const res = await append(s.id, { fromRole: 'observer', type: 'note', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(201);
      expect(res.json().event.payload).toEqual(payload);
    }
    const events = (await get(`${S}/${s.id}/events?limit=50`)).json().events as { payload: unknown }[];
    // Newest first.
    expect(events.map((e) => e.payload)).toEqual([...payloads].reverse());
  });

  it('counts draft-cycle steps and failures from step events', async () => {
    const s = await newSession();
    // Orchestration-owned types are written through the service (the API refuses them).
    await t.gateway.sessions.append(s.id, {
      fromRole: 'critic',
      type: 'draft_cycle_critic_completed',
      payload: { failed: false },
    });
    await t.gateway.sessions.append(s.id, {
      fromRole: 'maker',
      type: 'draft_cycle_maker_completed',
      payload: { failed: true },
    });
    await t.gateway.sessions.append(s.id, { fromRole: 'system', type: 'draft_cycle_failed', payload: {} });
    const status = (await get(`${S}/${s.id}/status`)).json().status;
    expect(status).toMatchObject({
      failedStepCount: 1,
      cycleFailedCount: 1,
      needsAttention: true,
      health: 'attention',
    });
    const summary = (await get(`${S}/${s.id}/summary`)).json().summary;
    expect(summary.totals).toMatchObject({
      draftCycleStepCount: 2,
      failedStepCount: 1,
      cycleFailedCount: 1,
      cycleCompletedCount: 0,
    });
  });

  it('refuses reserved types and the system role, invalid fields, unknown and closed sessions', async () => {
    const s = await newSession();
    const reserved = await append(s.id, { fromRole: 'observer', type: 'session_closed' });
    expect(reserved.json().error).toBe('AGENT_GATEWAY_EVENT_TYPE_RESERVED');
    const cycle = await append(s.id, { fromRole: 'observer', type: 'draft_cycle_completed' });
    expect(cycle.json().error).toBe('AGENT_GATEWAY_EVENT_TYPE_RESERVED');
    const system = await append(s.id, { fromRole: 'system', type: 'note' });
    expect(system.statusCode).toBe(400);
    expect(system.json().error).toBe('AGENT_GATEWAY_ROLE_RESERVED');
    for (const body of [
      { type: 'x' },
      { fromRole: 'a', type: '-bad' },
      { fromRole: 'a', type: 'ok', extra: true },
    ]) {
      const res = await append(s.id, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_BODY');
    }
    const missing = await append('ags-00000000-0000-0000-0000-000000000000', { fromRole: 'a', type: 'note' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('AGENT_GATEWAY_SESSION_NOT_FOUND');
    for (const path of ['', '/events', '/status', '/summary']) {
      const res = await get(`${S}/ags-00000000-0000-0000-0000-000000000000${path}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toBe('AGENT_GATEWAY_SESSION_NOT_FOUND');
    }
    for (const bad of ['nope', 'ags-SHORT', 'ags-', 'AGS-12345678']) {
      const res = await get(`${S}/${bad}/status`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_SESSION_ID');
    }
    const closed = await post(`${S}/${s.id}/close`);
    expect(closed.statusCode).toBe(200);
    const after = await append(s.id, { fromRole: 'observer', type: 'note' });
    expect(after.statusCode).toBe(409);
    expect(after.json().error).toBe('AGENT_GATEWAY_SESSION_CLOSED');
  });

  it('close is idempotent and appends session_closed once', async () => {
    const s = await newSession();
    const first = await post(`${S}/${s.id}/close`);
    expect(first.json()).toMatchObject({ closedNow: true, session: { status: 'closed' } });
    expect(first.json().session.closedAt).toBeTruthy();
    const second = await post(`${S}/${s.id}/close`);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ closedNow: false, session: { status: 'closed' } });
    const events = (await get(`${S}/${s.id}/events?eventType=session_closed`)).json();
    expect(events.total).toBe(1);
    expect(events.events[0].fromRole).toBe('system');
    const bad = await post(`${S}/${s.id}/close`, { unknown: 1 });
    expect(bad.json().error).toBe('ADMIN_INVALID_BODY');
  });

  it('compacts non-destructively: live + archive keep every event', async () => {
    const s = await newSession();
    for (let i = 1; i <= 12; i++)
      await append(s.id, { fromRole: 'observer', type: i % 2 ? 'odd' : 'even', payload: { i } });
    const res = await post(`${S}/${s.id}/compact`, { keepRecent: 4 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      keepRecent: 4,
      totalBefore: 12,
      keptCount: 4,
      prunedCount: 8,
      totalAfter: 5,
    });
    expect(body.event).toMatchObject({ type: 'session_compacted', fromRole: 'system', seq: 13 });
    expect(body.event.payload).toMatchObject({
      reason: 'manual',
      prunedCount: 8,
      prunedByType: { odd: 4, even: 4 },
    });
    expect(body.eventTypeCounts).toEqual({ odd: 2, even: 2, session_compacted: 1 });
    const live = (await get(`${S}/${s.id}/events?limit=100`)).json();
    expect(live.total).toBe(5);
    const all = (await get(`${S}/${s.id}/events?limit=100&includeArchived=true`)).json();
    expect(all.total).toBe(13);
    expect(all.events.map((e: { seq: number }) => e.seq).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 13 }, (_, i) => i + 1),
    );
    expect(all.events.filter((e: { archived: boolean }) => e.archived)).toHaveLength(8);
    const summary = (await get(`${S}/${s.id}/summary`)).json().summary;
    expect(summary.compaction).toMatchObject({ compactCount: 1, autoCompactCount: 0, prunedCountTotal: 8 });
    expect(summary.totals).toMatchObject({ eventCount: 5, archivedEventCount: 8, appendedEventCount: 13 });
    const defaults = await post(`${S}/${s.id}/compact`);
    expect(defaults.json().keepRecent).toBe(40);
    for (const keepRecent of [0, 1001, 'x', 1.5]) {
      const bad = await post(`${S}/${s.id}/compact`, { keepRecent });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toBe('ADMIN_INVALID_BODY');
    }
  });

  it('compacts automatically past the trigger with reason auto_buffer_limit', async () => {
    const s = await newSession();
    for (let i = 0; i < 31; i++) await append(s.id, { fromRole: 'observer', type: 'note', payload: { i } });
    const status = (await get(`${S}/${s.id}/status`)).json().status;
    expect(status.compactCount).toBe(1);
    expect(status.eventCount).toBe(6); // 5 kept + session_compacted
    const events = (await get(`${S}/${s.id}/events?eventType=session_compacted`)).json();
    expect(events.events[0].payload.reason).toBe('auto_buffer_limit');
    const all = (await get(`${S}/${s.id}/events?includeArchived=true&limit=100`)).json();
    expect(all.total).toBe(32);
  });

  it('lists sessions newest first with filters, stale detection, cursor and memory source', async () => {
    const a = await newSession({ channel: 'list-a' });
    const b = await newSession({ channel: 'list-b' });
    await append(a.id, { fromRole: 'observer', type: 'note' });
    const all = (await get(`${S}?source=db&limit=200`)).json();
    expect(all.source).toBe('db');
    expect(all.sessions[0].id).toBe(a.id);
    const updated = all.sessions.map((x: { updatedAt: string }) => x.updatedAt);
    expect([...updated].sort().reverse()).toEqual(updated);
    const onlyB = (await get(`${S}?channel=list-b`)).json();
    expect(onlyB.sessions.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect(onlyB.filters).toMatchObject({ channel: 'list-b', limit: 50 });

    // Make `a` look idle for an hour: the stale filter and badges must see it.
    await t.db.database.orm.execute(
      sql`update sessions set last_event_at = last_event_at - interval '60 minutes' where id = ${a.id}`,
    );
    const stale = (await get(`${S}?staleMinutes=15&limit=200`)).json();
    expect(stale.sessions.map((x: { id: string }) => x.id)).toContain(a.id);
    expect(stale.sessions.map((x: { id: string }) => x.id)).not.toContain(b.id);
    expect(stale.sessions.find((x: { id: string }) => x.id === a.id)).toMatchObject({
      stale: true,
      needsAttention: true,
    });
    const statusA = (await get(`${S}/${a.id}/status`)).json().status;
    expect(statusA).toMatchObject({ stale: true, health: 'attention' });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { sessions: { id: string }[]; nextCursor: string | null } = (
        await get(`${S}?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((x: { id: string }) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.sessions.map((x: { id: string }) => x.id));
    expect(new Set(seen).size).toBe(seen.length);

    const memory = (await get(`${S}?source=memory&channel=list-b`)).json();
    expect(memory.source).toBe('memory');
    expect(memory.sessions.map((x: { id: string }) => x.id)).toEqual([b.id]);
    const memStatus = await get(`${S}/${b.id}/status?source=memory`);
    expect(memStatus.statusCode).toBe(200);
    const closedOnly = (await get(`${S}?status=closed&limit=200`)).json();
    expect(closedOnly.sessions.every((x: { status: string }) => x.status === 'closed')).toBe(true);
  });

  it('rejects bad list queries with ADMIN_INVALID_QUERY', async () => {
    for (const q of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'source=disk',
      'status=open',
      'staleMinutes=-1',
      'cursor=zzz',
      'foo=bar',
      'channel=BAD%20CH',
    ]) {
      const res = await get(`${S}?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_QUERY');
    }
    const s = await newSession();
    for (const q of ['limit=1001', 'includeArchived=maybe', 'cursor=abc', 'eventType=BAD TYPE', 'x=1']) {
      const res = await get(`${S}/${s.id}/events?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error).toBe('ADMIN_INVALID_QUERY');
    }
  });
});
