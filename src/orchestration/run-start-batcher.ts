import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { DRAFT_CYCLE_QUEUE } from './draft-cycle.js';
import { type NewSessionRun, startRunsInNewSessions } from './run-store.js';

/** A run to start in a session of its own, and when its job may fire (the crash backstop of a local run). */
export interface RunStart {
  run: NewSessionRun;
  startAfterSeconds?: number;
}

/** `created: false` when the draft does not exist (nothing was written); `jobId` of the run's job otherwise. */
export interface RunStartOutcome {
  created: boolean;
  jobId: string | null;
}

interface Pending {
  start: RunStart;
  resolve(outcome: RunStartOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for draft-cycle starts in fresh sessions: starts that arrive while a batch is committing go in the
 * next one — one transaction with one statement for every session, run, `draft_cycle_started` event, counter and
 * NOTIFY (`startRunsInNewSessions`) and one multi-row job insert — so 200 concurrent starts cost a few commits
 * instead of 200. Each start is acknowledged only after its batch committed; if a batch fails, each start is
 * retried alone so one bad start never fails the others. Fresh sessions share no rows, so batches never wait on
 * each other.
 */
export class RunStartBatcher {
  private pending: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly deps: { database: Database; jobs: JobQueue },
    private readonly options: { maxInFlight: number; maxBatch: number } = { maxInFlight: 4, maxBatch: 250 },
  ) {}

  start(start: RunStart): Promise<RunStartOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ start, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.pending.splice(0, this.options.maxBatch);
      if (batch.length === 0) return;
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
      this.schedule();
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.commit(batch.map((item) => item.start));
      for (const [index, item] of batch.entries()) item.resolve(outcomes[index]!);
    } catch {
      // The shared transaction failed and nothing of it committed: each start alone, with its own outcome.
      await Promise.all(
        batch.map((item) =>
          this.commit([item.start]).then((outcomes) => item.resolve(outcomes[0]!), item.reject),
        ),
      );
    }
  }

  private commit(starts: RunStart[]): Promise<RunStartOutcome[]> {
    return this.deps.database.transaction(async (tx) => {
      const created = await startRunsInNewSessions(
        tx,
        starts.map((s) => s.run),
      );
      const outcomes = starts.map((start, index) => ({
        created: created[index] === true,
        jobId: created[index] ? randomUUID() : null,
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
      return outcomes.map(({ created, jobId }) => ({ created, jobId }));
    });
  }
}
