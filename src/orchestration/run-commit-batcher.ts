import type { Database } from '../db/database.js';
import { GroupCommit } from '../db/group-commit.js';
import { commitRunBatch, type RunCommit, type RunCommitOutcome } from './run-store.js';

export interface RunCommitBatcherOptions {
  /** Statements in flight at once (each on its own pooled connection). */
  maxInFlight: number;
  /** Steps per statement. */
  maxBatch: number;
}

/**
 * Group commit for draft-cycle progress (steps and run ends): commits that arrive while a statement is in flight
 * go together in the next one (`commitRunBatch`), so 200 concurrent cycles cost a handful of statements per step
 * instead of ~10 round trips each. A commit is acknowledged only after its statement committed. A session is never
 * in two statements at once (nor twice in one), which keeps each session's appends in order and the statements
 * free of lock cycles.
 */
export class RunCommitBatcher {
  private readonly group: GroupCommit<RunCommit, RunCommitOutcome>;

  constructor(database: Database, options: RunCommitBatcherOptions = { maxInFlight: 4, maxBatch: 50 }) {
    this.group = new GroupCommit({
      ...options,
      keys: (commit) => [commit.sessionId],
      commit: async (commits) =>
        (await commitRunBatch(database.orm, commits)).map((value) => ({ ok: true as const, value })),
    });
  }

  commit(commit: RunCommit): Promise<RunCommitOutcome> {
    return this.group.submit(commit);
  }
}
