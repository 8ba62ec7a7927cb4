import { sql } from 'drizzle-orm';
import { type Database, queryOne, queryRows } from '../db/database.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { SessionService } from '../sessions/session-service.js';
import { DRAFT_CYCLE_QUEUE } from './draft-cycle.js';
import { staleRunIds, touchRun } from './run-store.js';

export const SWEEPER_QUEUE = 'agw-sweeper';
const SWEEPER_LOCK_KEY = 727_002;

export interface SweepReport {
  skipped: boolean;
  closedIdle: number;
  purgedArchived: number;
  requeuedRuns: number;
}

export interface SweeperOptions {
  idleCloseMinutes: number;
  archiveRetentionDays: number;
  staleRunMinutes: number;
}

/**
 * Housekeeping on a schedule: close idle sessions, purge archived events past retention, re-queue runs whose worker
 * died. Every replica may run it; a transaction-scoped advisory lock lets only one act at a time.
 */
export class Sweeper {
  constructor(
    private readonly deps: { database: Database; sessions: SessionService; jobs: JobQueue },
    private readonly options: SweeperOptions,
  ) {}

  async sweep(): Promise<SweepReport> {
    const { database, sessions, jobs } = this.deps;
    return database.transaction(async (tx) => {
      const lock = await queryOne<{ ok: boolean }>(
        tx,
        sql`select pg_try_advisory_xact_lock(${SWEEPER_LOCK_KEY}) as ok`,
      );
      if (!lock?.ok) return { skipped: true, closedIdle: 0, purgedArchived: 0, requeuedRuns: 0 };
      let closedIdle = 0;
      if (this.options.idleCloseMinutes > 0) {
        const idle = await queryRows<{ id: string }>(
          tx,
          sql`select id from sessions where status = 'active'
              and coalesce(last_event_at, created_at) < clock_timestamp() - make_interval(mins => ${this.options.idleCloseMinutes})
              order by last_event_at limit 500`,
        );
        for (const { id } of idle) {
          const { closedNow } = await sessions.close(id, 'idle_timeout', tx);
          if (closedNow) closedIdle++;
        }
      }
      let purgedArchived = 0;
      if (this.options.archiveRetentionDays > 0) {
        const purged = await queryOne<{ n: number }>(
          tx,
          sql`with gone as (delete from session_event_archive
                where archived_at < clock_timestamp() - make_interval(days => ${this.options.archiveRetentionDays}) returning 1)
              select count(*)::int as n from gone`,
        );
        purgedArchived = purged?.n ?? 0;
      }
      const stale = await staleRunIds(tx, this.options.staleRunMinutes, 100);
      for (const runId of stale) {
        await touchRun(tx, runId);
        await jobs.sendInTransaction(tx, DRAFT_CYCLE_QUEUE, { runId });
      }
      return { skipped: false, closedIdle, purgedArchived, requeuedRuns: stale.length };
    });
  }
}
