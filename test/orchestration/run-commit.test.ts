import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/database.js';
import { createDraft } from '../../src/orchestration/draft-store.js';
import { RunCommitBatcher } from '../../src/orchestration/run-commit-batcher.js';
import {
  claimRun,
  commitRunBatch,
  getRun,
  listSteps,
  type NewSessionRun,
  type RunCommit,
  runCommitEvent,
  startRunsInNewSessions,
} from '../../src/orchestration/run-store.js';
import { sessionIdFor } from '../../src/sessions/session-rules.js';
import { getCounters, getSession, markClosed } from '../../src/sessions/session-store.js';
import { COMPLETED_CYCLE_EVENT_TYPES } from '../helpers/cycle-events.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const roles = ['author', 'critic', 'maker', 'judge'] as const;
const stepRoles = ['critic', 'maker', 'judge'] as const;

describe('run commits (one statement per batch of steps and run ends)', () => {
  let db: TestDatabase;
  let draftId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    draftId = (await db.database.transaction((tx) => createDraft(tx, { title: 't', body: 'b' }))).id;
  });
  afterAll(async () => db?.cleanup());

  async function startRun() {
    const runId = randomUUID();
    const sessionId = sessionIdFor('commit_test', null);
    const [started] = await db.database.transaction((tx) =>
      startRunsInNewSessions(tx, [
        {
          runId,
          sessionId,
          draftId,
          channel: 'commit_test',
          promptSeed: 'seed',
          metadata: { k: 'v' },
          roles: [...roles],
          event: runCommitEvent({
            fromRole: 'author',
            toRole: 'critic',
            type: 'draft_cycle_started',
            payload: { runId, draftId, promptSeed: 'seed' },
          }),
        },
      ]),
    );
    expect(started).toEqual({ created: true });
    return { runId, sessionId };
  }

  function stepCommit(runId: string, sessionId: string, index: number, provider = 'mock'): RunCommit {
    const role = stepRoles[index]!;
    const payload = {
      runId,
      step: index + 1,
      failed: false,
      selectedProvider: provider,
      attempts: [{ provider, status: 'success' }],
      output: `${role} says hi`,
    };
    return {
      kind: 'step',
      runId,
      sessionId,
      step: { index, role, prompt: `${role} prompt`, result: payload },
      events: [
        runCommitEvent({
          fromRole: role,
          toRole: stepRoles[index + 1] ?? 'author',
          type: `draft_cycle_${role}_completed`,
          payload,
        }),
      ],
      closeSession: false,
    };
  }

  function endCommit(runId: string, sessionId: string): RunCommit {
    return {
      kind: 'completed',
      runId,
      sessionId,
      verdict: { verdict: 'reject', confidence: 0.5, revision: null },
      error: null,
      events: [
        runCommitEvent({
          fromRole: 'judge',
          toRole: 'author',
          type: 'draft_cycle_completed',
          payload: { runId },
        }),
        runCommitEvent({
          fromRole: 'system',
          toRole: null,
          type: 'session_closed',
          payload: { reason: 'draft_cycle_finished' },
        }),
      ],
      closeSession: true,
    };
  }

  async function timeline(sessionId: string) {
    return queryRows<{ seq: number; type: string; payload: Record<string, unknown> }>(
      db.database.orm,
      sql`select seq, type, payload from session_events where session_id = ${sessionId} order by seq`,
    );
  }

  it('starts a run in a new session with draft_cycle_started as seq 1; an unknown draft writes nothing', async () => {
    const { runId, sessionId } = await startRun();
    const session = await getSession(db.database.orm, sessionId);
    expect(session).toMatchObject({
      status: 'active',
      lastSeq: 1,
      eventCount: 1,
      lastEventType: 'draft_cycle_started',
    });
    const events = await timeline(sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ runId, draftId, revision: 1, promptSeed: 'seed' });
    expect(await getRun(db.database.orm, runId)).toMatchObject({ status: 'queued', nextStep: 0 });
    expect((await getCounters(db.database.orm, sessionId)).type).toEqual({ draft_cycle_started: 1 });

    const [missing] = await db.database.transaction((tx) =>
      startRunsInNewSessions(tx, [
        {
          runId: randomUUID(),
          sessionId: sessionIdFor('commit_test', null),
          draftId: randomUUID(),
          channel: 'commit_test',
          promptSeed: null,
          metadata: {},
          roles: [...roles],
          event: runCommitEvent({
            fromRole: 'author',
            toRole: 'critic',
            type: 'draft_cycle_started',
            payload: {},
          }),
        },
      ]),
    );
    expect(missing).toEqual({ created: false });
  });

  it('starts many runs in one statement; an input with an unknown draft is skipped, the others are created', async () => {
    const inputs: NewSessionRun[] = [draftId, randomUUID(), draftId].map((id) => {
      const runId = randomUUID();
      return {
        runId,
        sessionId: sessionIdFor('commit_test', null),
        draftId: id,
        channel: 'commit_test',
        promptSeed: null,
        metadata: { n: 1 },
        roles: [...roles],
        event: runCommitEvent({
          fromRole: 'author',
          toRole: 'critic',
          type: 'draft_cycle_started',
          payload: { runId, draftId: id },
        }),
      };
    });
    // The third is started by the process that will run it: inserted already claimed, returned as claimed.
    inputs[2]!.local = true;
    const started = await db.database.transaction((tx) => startRunsInNewSessions(tx, inputs));
    const created = started.map((s) => s.created);
    expect(created).toEqual([true, false, true]);
    expect(started[0]!.claimed).toBeUndefined();
    expect(started[2]!.claimed).toMatchObject({
      run: {
        id: inputs[2]!.runId,
        status: 'running',
        attempts: 1,
        nextStep: 0,
        sessionId: inputs[2]!.sessionId,
      },
      draft: { title: expect.any(String), body: expect.any(String) },
      steps: [],
    });
    for (const [index, input] of inputs.entries()) {
      const session = await getSession(db.database.orm, input.sessionId);
      if (!created[index]) {
        expect(session).toBeUndefined();
        expect(await getRun(db.database.orm, input.runId)).toBeUndefined();
        continue;
      }
      expect(session).toMatchObject({ status: 'active', lastSeq: 1, draftId });
      const events = await timeline(input.sessionId);
      expect(events.map((e) => e.seq)).toEqual([1]);
      expect(events[0]!.payload).toMatchObject({ runId: input.runId, revision: 1 });
      expect(await getRun(db.database.orm, input.runId)).toMatchObject({
        status: input.local ? 'running' : 'queued',
        attempts: input.local ? 1 : 0,
        sessionId: input.sessionId,
      });
    }
  });

  it('commits 40 runs × 3 steps + end in batched statements: gap-free seq, counters, closed sessions', async () => {
    const runs = await Promise.all(Array.from({ length: 40 }, () => startRun()));
    const batcher = new RunCommitBatcher(db.database, { maxInFlight: 3, maxBatch: 16 });
    await Promise.all(
      runs.map(async ({ runId, sessionId }) => {
        for (let index = 0; index < 3; index++) {
          const outcome = await batcher.commit(stepCommit(runId, sessionId, index));
          expect(outcome).toMatchObject({ applied: true, lastSeq: index + 2 });
        }
        const end = await batcher.commit(endCommit(runId, sessionId));
        expect(end.applied).toBe(true);
        expect(end.sessionRow).toMatchObject({ status: 'closed', last_seq: 6 });
      }),
    );
    for (const { runId, sessionId } of runs) {
      const events = await timeline(sessionId);
      expect(events.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events.map((e) => e.type)).toEqual([...COMPLETED_CYCLE_EVENT_TYPES]);
      const session = await getSession(db.database.orm, sessionId);
      expect(session).toMatchObject({
        status: 'closed',
        lastSeq: 6,
        eventCount: 6,
        stepCount: 3,
        cycleCompletedCount: 1,
        lastEventType: 'session_closed',
      });
      expect(session!.closedAt).not.toBeNull();
      const [rollups] = await queryRows<{ success: number; failed: number }>(
        db.database.orm,
        sql`select attempt_success_count as success, attempt_failed_count as failed from sessions where id = ${sessionId}`,
      );
      expect(rollups).toEqual({ success: 3, failed: 0 });
      const counters = await getCounters(db.database.orm, sessionId);
      expect(counters.provider).toEqual({ mock: 3 });
      expect(counters.attempt).toEqual({ success: 3 });
      expect(counters.role).toEqual({ author: 1, critic: 1, maker: 1, judge: 2, system: 1 });
      const steps = await listSteps(db.database.orm, runId);
      expect(steps.map((s) => [s.stepIndex, s.eventSeq])).toEqual([
        [0, 2],
        [1, 3],
        [2, 4],
      ]);
      expect(await getRun(db.database.orm, runId)).toMatchObject({
        status: 'completed',
        nextStep: 3,
        verdict: { verdict: 'reject', confidence: 0.5, revision: null },
      });
    }
  });

  it('a second executor committing the same step, or ending a finished run, changes nothing', async () => {
    const { runId, sessionId } = await startRun();
    const [first, second] = await Promise.all([
      commitRunBatch(db.database.orm, [stepCommit(runId, sessionId, 0, 'a')]),
      commitRunBatch(db.database.orm, [stepCommit(runId, sessionId, 0, 'b')]),
    ]);
    expect([first[0]!.applied, second[0]!.applied].sort()).toEqual([false, true]);
    expect((await timeline(sessionId)).map((e) => e.type)).toEqual([
      'draft_cycle_started',
      'draft_cycle_critic_completed',
    ]);
    expect(await listSteps(db.database.orm, runId)).toHaveLength(1);
    // A step out of order (the run is at step 1) is refused too.
    expect((await commitRunBatch(db.database.orm, [stepCommit(runId, sessionId, 2)]))[0]!.applied).toBe(
      false,
    );
    expect((await commitRunBatch(db.database.orm, [endCommit(runId, sessionId)]))[0]!.applied).toBe(true);
    expect((await commitRunBatch(db.database.orm, [endCommit(runId, sessionId)]))[0]!.applied).toBe(false);
    expect(await timeline(sessionId)).toHaveLength(4);
  });

  it('a session closed under the run: the step advances the run but appends nothing', async () => {
    const { runId, sessionId } = await startRun();
    await db.database.transaction((tx) => markClosed(tx, sessionId));
    const [outcome] = await commitRunBatch(db.database.orm, [stepCommit(runId, sessionId, 0)]);
    expect(outcome).toMatchObject({ applied: true, sessionRow: null, lastSeq: null });
    expect(await timeline(sessionId)).toHaveLength(1);
    expect(await listSteps(db.database.orm, runId)).toHaveLength(0);
  });

  it('claims: the starting process takes a queued run; a job takes a running run only once it is stale', async () => {
    const { runId } = await startRun();
    const claimed = await claimRun(db.database.orm, runId, null);
    expect(claimed).toMatchObject({
      run: { id: runId, status: 'running', attempts: 1 },
      draft: { title: 't', body: 'b' },
    });
    expect(claimed!.steps).toEqual([]);
    // Fresh progress: a job must leave it to its executor.
    expect(await claimRun(db.database.orm, runId, 30)).toBeUndefined();
    await db.database.orm.execute(
      sql`update orchestration_runs set updated_at = clock_timestamp() - interval '31 seconds' where id = ${runId}`,
    );
    const takenOver = await claimRun(db.database.orm, runId, 30);
    expect(takenOver?.run.attempts).toBe(2);
  });
});
