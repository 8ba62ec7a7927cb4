import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRun } from '../../src/orchestration/run-store.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const S = '/api/admin/agent-gateway/sessions';

describe('sweeper', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      env: { AGENT_GATEWAY_IDLE_CLOSE_MINUTES: '30', AGENT_GATEWAY_ARCHIVE_RETENTION_DAYS: '7' },
    });
  });
  afterAll(async () => t?.close());
  const exec = (q: ReturnType<typeof sql>) => t.db.database.orm.execute(q);

  it('closes idle sessions, purges archive past retention, re-queues stalled runs', async () => {
    const idle = (await adminRequest(t, 'POST', S, { channel: 'sweep', externalSessionId: 'idle' })).json()
      .session.id;
    const busy = (await adminRequest(t, 'POST', S, { channel: 'sweep', externalSessionId: 'busy' })).json()
      .session.id;
    for (let i = 0; i < 5; i++)
      await adminRequest(t, 'POST', `${S}/${busy}/events`, { fromRole: 'observer', type: 'note' });
    await adminRequest(t, 'POST', `${S}/${busy}/compact`, { keepRecent: 1 });
    await exec(
      sql`update sessions set last_event_at = clock_timestamp() - interval '2 hours', created_at = clock_timestamp() - interval '2 hours' where id = ${idle}`,
    );
    await exec(
      sql`update session_event_archive set archived_at = clock_timestamp() - interval '8 days' where session_id = ${busy} and seq <= 2`,
    );

    // A run whose worker died before doing anything: queued, no job, no progress for 10 minutes.
    const draft = (await adminRequest(t, 'POST', '/api/admin/drafts', { title: 'stalled', body: 'b' })).json()
      .draft;
    const stalled = (
      await adminRequest(t, 'POST', S, { channel: 'sweep', externalSessionId: 'stalled' })
    ).json().session.id;
    const runId = randomUUID();
    await t.db.database.transaction((tx) =>
      insertRun(tx, {
        id: runId,
        sessionId: stalled,
        draftId: draft.id,
        channel: 'sweep',
        externalSessionId: 'stalled',
        promptSeed: null,
        metadata: {},
      }),
    );
    await exec(
      sql`update orchestration_runs set updated_at = clock_timestamp() - interval '10 minutes' where id = ${runId}`,
    );

    const report = await t.gateway.sweeper.sweep();
    expect(report).toEqual({ skipped: false, closedIdle: 1, purgedArchived: 2, requeuedRuns: 1 });
    const idleStatus = (await adminRequest(t, 'GET', `${S}/${idle}/status`)).json().status;
    expect(idleStatus.status).toBe('closed');
    const closedEvent = (await adminRequest(t, 'GET', `${S}/${idle}/events?eventType=session_closed`)).json()
      .events[0];
    expect(closedEvent.payload).toEqual({ reason: 'idle_timeout' });
    expect((await adminRequest(t, 'GET', `${S}/${busy}/status`)).json().status.status).toBe('active');
    const archive = (
      await adminRequest(t, 'GET', `${S}/${busy}/events?includeArchived=true&limit=100`)
    ).json();
    expect(
      archive.events
        .filter((e: { archived: boolean }) => e.archived)
        .map((e: { seq: number }) => e.seq)
        .sort(),
    ).toEqual([3, 4]);

    for (let i = 0; i < 100; i++) {
      if ((await t.gateway.orchestrator.describe(runId)).status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await t.gateway.orchestrator.describe(runId)).status).toBe('completed');
    expect((await t.gateway.sweeper.sweep()).requeuedRuns).toBe(0);
  });
});
