import type { Database } from '../db/database.js';
import { commitRunBatch, type RunCommit, type RunCommitOutcome } from './run-store.js';

interface Pending {
  commit: RunCommit;
  resolve(outcome: RunCommitOutcome): void;
  reject(error: unknown): void;
}

export interface RunCommitBatcherOptions {
  /** Statements in flight at once (each on its own pooled connection). */
  maxInFlight: number;
  /** Steps per statement. */
  maxBatch: number;
}

/**
 * Group commit for draft-cycle progress (steps and run ends): commits that arrive while a statement is in flight
 * go together in the next one, so 200 concurrent cycles cost a handful of statements per step instead of ~10 round
 * trips each. A commit is acknowledged only after its statement committed. A session is never in two statements at once (nor
 * twice in one), which keeps each session's appends in order and the statements free of lock cycles.
 */
export class RunCommitBatcher {
  private pending: Pending[] = [];
  private readonly busySessions = new Set<string>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly database: Database,
    private readonly options: RunCommitBatcherOptions = { maxInFlight: 4, maxBatch: 250 },
  ) {}

  commit(commit: RunCommit): Promise<RunCommitOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ commit, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // setImmediate lets every step that finished in this turn of the event loop join the same statement.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch: Pending[] = [];
    const sessions = new Set<string>();
    const rest: Pending[] = [];
    for (const item of this.pending) {
      const id = item.commit.sessionId;
      if (batch.length < this.options.maxBatch && !sessions.has(id) && !this.busySessions.has(id)) {
        batch.push(item);
        sessions.add(id);
      } else {
        rest.push(item);
      }
    }
    this.pending = rest;
    if (batch.length === 0) return; // everything waits for a session already in flight; its end reschedules
    for (const id of sessions) this.busySessions.add(id);
    this.inFlight += 1;
    void commitRunBatch(
      this.database.orm,
      batch.map((item) => item.commit),
    )
      .then(
        (outcomes) => {
          for (const [index, item] of batch.entries()) item.resolve(outcomes[index]!);
        },
        (error) => {
          for (const item of batch) item.reject(error);
        },
      )
      .finally(() => {
        for (const id of sessions) this.busySessions.delete(id);
        this.inFlight -= 1;
        this.schedule();
      });
    this.schedule();
  }
}
