import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { GroupCommit, type Settled } from '../db/group-commit.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { DRAFT_CYCLE_QUEUE } from './draft-cycle.js';
import { type ClaimedRun, type NewSessionRun, startRunsInNewSessions } from './run-store.js';

/** A run to start in a session of its own, and when its job may fire (the crash backstop of a local run). */
export interface RunStart {
  run: NewSessionRun;
  startAfterSeconds?: number;
}

/**
 * `created: false` when the draft does not exist (nothing was written); otherwise the run's `jobId` and, for a
 * local start, the run already claimed for this process.
 */
export interface RunStartOutcome {
  created: boolean;
  jobId: string | null;
  claimed?: ClaimedRun;
}

/**
 * Group commit for draft-cycle starts in fresh sessions: starts that arrive while a batch is committing go in the
 * next one — one transaction with one statement for every session, run, `draft_cycle_started` event, counter and
 * NOTIFY (`startRunsInNewSessions`) and one multi-row job insert — so 200 concurrent starts cost a few commits
 * instead of 200. Each start is acknowledged only after its batch committed; if a batch fails, each start is
 * retried alone so one bad start never fails the others. Fresh sessions share no rows, so no keys are needed.
 */
export class RunStartBatcher {
  private readonly group: GroupCommit<RunStart, RunStartOutcome>;

  constructor(
    private readonly deps: { database: Database; jobs: JobQueue },
    options: { maxInFlight: number; maxBatch: number } = { maxInFlight: 4, maxBatch: 50 },
  ) {
    this.group = new GroupCommit({ ...options, commit: (starts) => this.commitOrSplit(starts) });
  }

  start(start: RunStart): Promise<RunStartOutcome> {
    return this.group.submit(start);
  }

  private async commitOrSplit(starts: RunStart[]): Promise<Settled<RunStartOutcome>[]> {
    try {
      return (await this.commit(starts)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (starts.length === 1) return [{ ok: false, error }];
      // The shared transaction failed and nothing of it committed: each start alone, with its own outcome.
      return Promise.all(
        starts.map((start) =>
          this.commit([start]).then(
            ([value]) => ({ ok: true as const, value: value! }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        ),
      );
    }
  }

  private commit(starts: RunStart[]): Promise<RunStartOutcome[]> {
    return this.deps.database.transaction(async (tx) => {
      const started = await startRunsInNewSessions(
        tx,
        starts.map((s) => s.run),
      );
      const outcomes = starts.map((start, index) => ({
        ...started[index]!,
        jobId: started[index]?.created ? randomUUID() : null,
        start,
      }));
      await this.deps.jobs.insertInTransaction(
        tx,
        DRAFT_CYCLE_QUEUE,
        outcomes
          .filter((o) => o.jobId !== null)
          .map((o) => ({
            id: o.jobId!,
            data: { runId: o.start.run.runId },
            ...(o.start.startAfterSeconds ? { startAfterSeconds: o.start.startAfterSeconds } : {}),
          })),
      );
      return outcomes.map(({ created, jobId, claimed }) => ({
        created,
        jobId,
        ...(claimed ? { claimed } : {}),
      }));
    });
  }
}
