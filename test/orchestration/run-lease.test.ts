import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DraftCycle } from '../../src/orchestration/draft-cycle.js';
import { RunCommitBatcher } from '../../src/orchestration/run-commit-batcher.js';
import { getRun, insertRun } from '../../src/orchestration/run-store.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const LEASE = 30;

describe('a run held by another executor', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());

  it('is looked at again when that executor’s lease lapses (not a whole lease later), then taken over', async () => {
    const { gateway } = t;
    const requeued: number[] = [];
    const cycle = new DraftCycle({
      database: gateway.database,
      sessions: gateway.sessions,
      runtime: gateway.runtime,
      commits: new RunCommitBatcher(gateway.database),
      leaseSeconds: LEASE,
      requeue: async (_runId, delaySeconds) => void requeued.push(delaySeconds),
    });
    const draft = (await adminRequest(t, 'POST', '/api/admin/drafts', { title: 'lease', body: 'b' })).json()
      .draft;
    const sessionId = (
      await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', {
        channel: 'lease',
        externalSessionId: 'x',
      })
    ).json().session.id;
    const runId = randomUUID();
    await insertRun(gateway.database.orm, {
      id: runId,
      sessionId,
      draftId: draft.id,
      channel: 'lease',
      externalSessionId: 'x',
      promptSeed: null,
      metadata: {},
    });
    // Another executor holds it and last showed progress 20 s ago: its lease lapses in ~10 s.
    const age = (seconds: number) =>
      gateway.database.orm.execute(
        sql`update orchestration_runs set status = 'running', updated_at = clock_timestamp() - make_interval(secs => ${seconds}) where id = ${runId}`,
      );
    await age(20);
    await cycle.runFromJob(runId);
    expect(requeued).toHaveLength(1);
    expect(requeued[0]).toBeGreaterThanOrEqual(9);
    expect(requeued[0]).toBeLessThanOrEqual(11);
    expect((await getRun(gateway.database.orm, runId))?.status).toBe('running');

    // Its lease has lapsed: this executor takes the run over and finishes it.
    await age(LEASE + 1);
    await cycle.runFromJob(runId);
    expect(requeued).toHaveLength(1);
    expect((await getRun(gateway.database.orm, runId))?.status).toBe('completed');
  });
});
