import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, startProcess, stopProcess } from '../helpers/processes.js';
import { readSse } from '../helpers/sse-client.js';
import { usingPostgres } from '../helpers/test-database.js';
import { adminRequest, startTestGateway, TEST_TOKENS, type TestGateway } from '../helpers/test-gateway.js';

const S = '/api/admin/agent-gateway/sessions';
const auth = { 'x-admin-token': TEST_TOKENS.admin };

describe('live session stream', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
  });
  afterAll(async () => t?.close());

  async function session(ext: string) {
    return (await adminRequest(t, 'POST', S, { channel: 'stream', externalSessionId: ext })).json().session
      .id as string;
  }
  const append = (id: string, i: number) =>
    adminRequest(t, 'POST', `${S}/${id}/events`, { fromRole: 'observer', type: 'note', payload: { i } });

  it('delivers new events live with id = seq, resumes with Last-Event-ID, ends after session_closed', async () => {
    const id = await session('s1');
    const reading = readSse(`${t.url}${S}/${id}/stream`, auth, (events) => events.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 1; i <= 3; i++) await append(id, i);
    const first = await reading;
    expect(first.status).toBe(200);
    expect(first.events.map((e) => e.id)).toEqual(['1', '2', '3']);
    expect(JSON.parse(first.events[1]!.data)).toMatchObject({ seq: 2, type: 'note', payload: { i: 2 } });

    await append(id, 4);
    await append(id, 5);
    const resumed = readSse(`${t.url}${S}/${id}/stream`, { ...auth, 'last-event-id': '3' }, () => false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await adminRequest(t, 'POST', `${S}/${id}/close`);
    const rest = await resumed;
    expect(rest.events.map((e) => e.id)).toEqual(['4', '5', '6']);
    expect(rest.events.at(-1)?.event).toBe('session_closed');
    expect(rest.ended).toBe(true);
  });

  it('replays archived events after a compaction and needs a token and a valid id', async () => {
    const id = await session('s2');
    for (let i = 1; i <= 6; i++) await append(id, i);
    await adminRequest(t, 'POST', `${S}/${id}/compact`, { keepRecent: 2 });
    const replay = await readSse(
      `${t.url}${S}/${id}/stream?lastEventId=0`,
      auth,
      (events) => events.length >= 7,
    );
    expect(replay.events.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const denied = await fetch(`${t.url}${S}/${id}/stream`);
    expect(denied.status).toBe(401);
    const missing = await fetch(`${t.url}${S}/ags-00000000-0000-0000-0000-000000000000/stream`, {
      headers: auth,
    });
    expect(missing.status).toBe(404);
  });
});

describe.runIf(usingPostgres)('two gateway processes on one PostgreSQL', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ listen: true });
  });
  afterAll(async () => t?.close());

  it('an SSE client on A sees events appended through B; runs started on A complete with both working', async () => {
    const { child, match } = await startProcess(
      'node',
      ['dist/main.js'],
      childEnv({ DATABASE_URL: t.db.url!, PORT: '0', ADMIN_API_TOKEN: TEST_TOKENS.admin, LOG_LEVEL: 'warn' }),
      /listening on (http:\/\/\S+)/,
    );
    try {
      const urlB = match[1]!;
      const created = await fetch(`${urlB}${S}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'replicas', externalSessionId: 'x1' }),
      });
      const id = ((await created.json()) as { session: { id: string } }).session.id;
      const reading = readSse(`${t.url}${S}/${id}/stream`, auth, (events) => events.length >= 5);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < 5; i++) {
        await fetch(`${urlB}${S}/${id}/events`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ fromRole: 'observer', type: 'note', payload: { i } }),
        });
      }
      const seen = await reading;
      expect(seen.events.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);

      const draft = (await adminRequest(t, 'POST', '/api/admin/drafts', { title: 't', body: 'b' })).json()
        .draft;
      const runs = await Promise.all(
        Array.from({ length: 6 }, () =>
          adminRequest(t, 'POST', '/api/admin/agent-gateway/orchestrate', { draftId: draft.id, async: true }),
        ),
      );
      const ids = runs.map((r) => r.json().runId as string);
      for (let i = 0; i < 200; i++) {
        const states = await Promise.all(ids.map((runId) => t.gateway.orchestrator.describe(runId)));
        if (states.every((s) => s.status === 'completed')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const states = await Promise.all(ids.map((runId) => t.gateway.orchestrator.describe(runId)));
      expect(states.map((s) => s.status)).toEqual(Array(6).fill('completed'));
    } finally {
      await stopProcess(child);
    }
  }, 60_000);
});
