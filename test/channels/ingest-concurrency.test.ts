import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_PATH, signedHeaders } from '../helpers/ingest-client.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SECRET = 'concurrency-secret-0123456789abcdef';

/**
 * Sends the same signed request `count` times at once (request i to `urlOf(i)`) and checks the outcome: exactly one
 * 201, every other answer a 200 replay of that same event. Returns the applied answer.
 */
async function burstOfDuplicates(raw: string, count: number, urlOf: (i: number) => string) {
  const headers = signedHeaders(raw, { secret: SECRET });
  const responses = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const res = await request(`${urlOf(i)}${INGEST_PATH}`, { method: 'POST', headers, body: raw });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    }),
  );
  const statuses = responses.map((r) => r.status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(1);
  expect(statuses.filter((s) => s === 200)).toHaveLength(count - 1);
  const applied = responses.find((r) => r.status === 201)!.body;
  for (const r of responses.filter((x) => x.status === 200)) {
    expect(r.body).toMatchObject({ applied: false, deduplicated: true, sessionId: applied.sessionId });
    expect((r.body.event as { id: string }).id).toBe((applied.event as { id: string }).id);
  }
  return applied;
}

describe('durable dedup under concurrent duplicates', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      listen: true,
      env: { AGENT_GATEWAY_WEBHOOK_SECRET: SECRET, AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000' },
    });
  });
  afterAll(async () => t?.close());

  it('50 identical signed requests at once → exactly one 201, 49 replays, one event', async () => {
    const raw = JSON.stringify({
      connectorId: 'burst',
      eventId: 'same-event-1',
      channel: 'web-chat',
      externalSessionId: 'burst-room',
      fromRole: 'observer',
      type: 'note',
      payload: { text: 'only once' },
    });
    const applied = await burstOfDuplicates(raw, 50, () => t.url);
    const sessionId = applied.sessionId as string;
    const events = (
      await adminRequest(t, 'GET', `/api/admin/agent-gateway/sessions/${sessionId}/events`)
    ).json();
    expect(events.total).toBe(1);
    expect(events.events[0].payload).toEqual({ text: 'only once' });
  });

  it('two replicas on one database: 50 identical requests split over both → one 201, 49 replays, one event', async () => {
    // Each replica group-commits its own share, so the duplicates meet in the database's unique key, not in memory.
    const second = await startTestGateway({
      listen: true,
      db: t.db,
      env: { AGENT_GATEWAY_WEBHOOK_SECRET: SECRET, AGENT_GATEWAY_INGEST_CONNECTOR_RATE_LIMIT_MAX: '1000' },
    });
    try {
      const raw = JSON.stringify({
        connectorId: 'burst',
        eventId: 'same-event-two-replicas',
        channel: 'web-chat',
        externalSessionId: 'burst-room-2',
        payload: { text: 'only once, whichever replica' },
      });
      const applied = await burstOfDuplicates(raw, 50, (i) => (i % 2 === 0 ? t : second).url);
      const events = (
        await adminRequest(t, 'GET', `/api/admin/agent-gateway/sessions/${applied.sessionId}/events`)
      ).json();
      expect(events.total).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('30 different events racing into one new session all land, with seq 1..30 and no gap', async () => {
    const send = (i: number) => {
      const raw = JSON.stringify({
        connectorId: 'burst',
        eventId: `race-${i}`,
        channel: 'web-chat',
        externalSessionId: 'race-room',
        payload: { i },
      });
      return request(`${t.url}${INGEST_PATH}`, {
        method: 'POST',
        headers: signedHeaders(raw, { secret: SECRET }),
        body: raw,
      }).then(async (res) => ({
        status: res.statusCode,
        body: (await res.body.json()) as { sessionId: string },
      }));
    };
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i)));
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(201));
    const sessionId = responses[0]!.body.sessionId;
    const events = (
      await adminRequest(t, 'GET', `/api/admin/agent-gateway/sessions/${sessionId}/events?limit=100`)
    ).json();
    expect(events.events.map((e: { seq: number }) => e.seq).sort((a: number, b: number) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });
});
