import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/database.js';
import { DRAFT_CYCLE_QUEUE } from '../../src/orchestration/draft-cycle.js';
import { RunStartBatcher } from '../../src/orchestration/run-start-batcher.js';
import { getRun, runCommitEvent } from '../../src/orchestration/run-store.js';
import { sessionIdFor } from '../../src/sessions/session-rules.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** Group-committed starts: many starts share one transaction; each is answered as if it had been alone. */
describe('draft-cycle start group commit', () => {
  let t: TestGateway;
  let draftId: string;
  beforeAll(async () => {
    t = await startTestGateway({ env: { AGENT_ORCHESTRATION_ENABLED: 'false' } });
    const draft = await adminRequest(t, 'POST', '/api/admin/drafts', { title: 'Batch', body: 'Start me.' });
    draftId = draft.json().draft.id;
  });
  afterAll(async () => t?.close());

  const start = (batcher: RunStartBatcher, draft: string, channel: string | null) => {
    const runId = randomUUID();
    return {
      runId,
      promise: batcher.start({
        run: {
          runId,
          sessionId: sessionIdFor('batch', null),
          draftId: draft,
          // A NULL channel breaks the sessions row's NOT NULL constraint: a database error inside a batch.
          channel: channel as string,
          promptSeed: null,
          metadata: {},
          roles: ['author', 'critic', 'maker', 'judge'],
          event: runCommitEvent({
            fromRole: 'author',
            toRole: 'critic',
            type: 'draft_cycle_started',
            payload: { runId },
          }),
        },
        startAfterSeconds: 3600,
      }),
    };
  };

  const jobsFor = async (runIds: string[]) =>
    queryRows<{ id: string; run_id: string; delayed: boolean }>(
      t.gateway.database.orm,
      sql`select id::text, data->>'runId' as run_id, start_after > now() + interval '50 minutes' as delayed
          from pgboss.job where name = ${DRAFT_CYCLE_QUEUE} and data->>'runId' in (${sql.join(
            runIds.map((id) => sql`${id}`),
            sql`, `,
          )})`,
    );

  it('starts in one batch: runs, events and one deferred job each; an unknown draft is refused alone', async () => {
    const batcher = new RunStartBatcher({ database: t.gateway.database, jobs: t.gateway.jobs });
    const starts = [draftId, draftId, randomUUID(), draftId].map((d) => start(batcher, d, 'batch'));
    const outcomes = await Promise.all(starts.map((s) => s.promise));
    expect(outcomes.map((o) => o.created)).toEqual([true, true, false, true]);
    const jobs = await jobsFor(starts.map((s) => s.runId));
    expect(jobs).toHaveLength(3);
    for (const [index, s] of starts.entries()) {
      const job = jobs.find((j) => j.run_id === s.runId);
      if (!outcomes[index]!.created) {
        expect(job).toBeUndefined();
        expect(await getRun(t.gateway.database.orm, s.runId)).toBeUndefined();
        continue;
      }
      expect(job).toMatchObject({ id: outcomes[index]!.jobId, delayed: true });
      expect(await getRun(t.gateway.database.orm, s.runId)).toMatchObject({ status: 'queued' });
    }
  });

  it('a batch whose transaction fails is retried start by start: only the broken one fails', async () => {
    const batcher = new RunStartBatcher({ database: t.gateway.database, jobs: t.gateway.jobs });
    const starts = [0, 1, 2, 3].map((i) => start(batcher, draftId, i === 2 ? null : 'batch'));
    const settled = await Promise.allSettled(starts.map((s) => s.promise));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const jobs = await jobsFor(starts.map((s) => s.runId));
    expect(jobs.map((j) => j.run_id).sort()).toEqual(
      [starts[0]!.runId, starts[1]!.runId, starts[3]!.runId].sort(),
    );
  });
});
