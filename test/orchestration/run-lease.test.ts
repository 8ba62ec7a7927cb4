import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/database.js';
import { DraftCycle, type DraftCycleDeps } from '../../src/orchestration/draft-cycle.js';
import type { RoleRunner } from '../../src/orchestration/role-runner.js';
import { RunCommitBatcher } from '../../src/orchestration/run-commit-batcher.js';
import { getRun, insertRun, listSteps } from '../../src/orchestration/run-store.js';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const LEASE = 30;

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => t?.close());

/** A queued run of a new draft (`body`) in a new session of `channel`. */
async function newRun(channel: string, body = 'b'): Promise<{ runId: string; sessionId: string }> {
  const draft = (await adminRequest(t, 'POST', '/api/admin/drafts', { title: channel, body })).json().draft;
  const externalSessionId = randomUUID();
  const sessionId = (
    await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', { channel, externalSessionId })
  ).json().session.id;
  const runId = randomUUID();
  await insertRun(t.gateway.database.orm, {
    id: runId,
    sessionId,
    draftId: draft.id,
    channel,
    externalSessionId,
    promptSeed: null,
    metadata: {},
  });
  return { runId, sessionId };
}

/** An executor of its own (its own commit batcher) on the test gateway's database and runtime. */
function executor(overrides: Partial<DraftCycleDeps> = {}): DraftCycle {
  return new DraftCycle({
    database: t.gateway.database,
    sessions: t.gateway.sessions,
    runtime: t.gateway.runtime,
    commits: new RunCommitBatcher(t.gateway.database),
    leaseSeconds: LEASE,
    requeue: async () => undefined,
    ...overrides,
  });
}

describe('a run held by another executor', () => {
  it('is looked at again when that executor’s lease lapses (not a whole lease later), then taken over', async () => {
    const { gateway } = t;
    const requeued: number[] = [];
    const cycle = executor({ requeue: async (_runId, delaySeconds) => void requeued.push(delaySeconds) });
    const { runId } = await newRun('lease');
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

describe('executors racing one run', () => {
  const finishing = (finished: string[], runtime?: RoleRunner) =>
    executor({ onFinished: (_run, status) => void finished.push(status), ...(runtime ? { runtime } : {}) });

  async function timeline(sessionId: string) {
    return queryRows<{ seq: number; type: string }>(
      t.gateway.database.orm,
      sql`select seq, type from session_events where session_id = ${sessionId} order by seq`,
    );
  }

  it('two executors on one run: each step is committed once, the one behind takes up the other’s steps, one end', async () => {
    const { runId, sessionId } = await newRun('race');
    const finished: string[] = [];
    const [a, b] = [finishing(finished), finishing(finished)];
    await Promise.all([a.runLocal(runId), b.runLocal(runId)]);
    expect((await getRun(t.gateway.database.orm, runId))?.status).toBe('completed');
    expect(finished).toEqual(['completed']);
    const events = await timeline(sessionId);
    expect(events.map((e) => e.type).slice(-5)).toEqual([
      'draft_cycle_critic_completed',
      'draft_cycle_maker_completed',
      'draft_cycle_judge_completed',
      'draft_cycle_completed',
      'session_closed',
    ]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const steps = await listSteps(t.gateway.database.orm, runId);
    expect(steps.map((s) => s.role)).toEqual(['critic', 'maker', 'judge']);
    // Each step row points at its own event, also the last one (committed together with the run's end).
    for (const step of steps)
      expect(events.find((e) => e.seq === step.eventSeq)?.type).toBe(`draft_cycle_${step.role}_completed`);
  });

  it('the session is closed while the next role is already answering: that answer is dropped, the run fails', async () => {
    const { runId, sessionId } = await newRun('closed-under');
    const finished: string[] = [];
    const calls: string[] = [];
    // The real runtime; the operator closes the session just as the critic answers, so the maker's call is in
    // flight when the critic's commit finds the session closed.
    const runtime: RoleRunner = {
      runRole: async (request) => {
        calls.push(request.role);
        const result = await t.gateway.runtime.runRole(request);
        if (request.role === 'critic')
          await adminRequest(t, 'POST', `/api/admin/agent-gateway/sessions/${sessionId}/close`, {});
        return result;
      },
    };
    await finishing(finished, runtime).runLocal(runId);
    const run = await getRun(t.gateway.database.orm, runId);
    expect(run).toMatchObject({ status: 'failed', error: 'session was closed during the run' });
    expect(finished).toEqual(['failed']);
    expect(calls).toEqual(['critic', 'maker']);
    const types = (await timeline(sessionId)).map((e) => e.type);
    expect(types.filter((type) => type.startsWith('draft_cycle_'))).toEqual([]);
    expect(await listSteps(t.gateway.database.orm, runId)).toEqual([]);
  });
});

describe('a first step begun before the start committed', () => {
  it('is used when the committed start leads to the same prompt, and dropped (the role asked again) when not', async () => {
    const calls: string[] = [];
    const runtime: RoleRunner = {
      runRole: (request) => {
        calls.push(request.role);
        return t.gateway.runtime.runRole(request);
      },
    };
    const cycle = executor({ runtime });
    const run = async (early: ReturnType<DraftCycle['beginFirstStep']>) => {
      const { runId } = await newRun('early', 'the body as committed');
      calls.length = 0;
      await cycle.runLocal(runId, undefined, early);
      const steps = await listSteps(t.gateway.database.orm, runId);
      return { steps, calls: [...calls] };
    };

    // Read as committed: the early call is the critic step.
    const same = cycle.beginFirstStep({
      title: 'early',
      body: 'the body as committed',
      context: null,
      promptSeed: null,
    });
    const used = await run(same);
    expect(used.calls).toEqual(['maker', 'judge']);
    expect(used.steps[0]!.prompt).toBe(same.prompt);

    // Read before a change that the start then committed: that answer is dropped, the critic is asked again.
    const stale = cycle.beginFirstStep({
      title: 'early',
      body: 'an older body',
      context: null,
      promptSeed: null,
    });
    const redone = await run(stale);
    expect(redone.calls).toEqual(['critic', 'maker', 'judge']);
    expect(redone.steps[0]!.prompt).not.toBe(stale.prompt);
    expect(redone.steps[0]!.prompt).toContain('the body as committed');
  });
});
