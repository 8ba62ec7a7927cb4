import { sql } from 'drizzle-orm';
import { type Executor, queryOne } from '../db/database.js';

/** The recorded outcome of delivering one reply (session, reply seq), if any. */
export async function findDelivery(
  executor: Executor,
  sessionId: string,
  replySeq: number,
): Promise<{ status: string } | undefined> {
  return queryOne<{ status: string }>(
    executor,
    sql`select status from reply_deliveries where session_id = ${sessionId} and reply_seq = ${replySeq}`,
  );
}

/** Locks the marker row (if any) so two workers cannot both record an outcome for the same reply. */
export async function lockDelivery(
  tx: Executor,
  sessionId: string,
  replySeq: number,
): Promise<{ status: string } | undefined> {
  // A transaction-scoped advisory lock covers the case where no row exists yet.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${sessionId}:${replySeq}`}))`);
  return findDelivery(tx, sessionId, replySeq);
}

export async function recordDelivery(
  tx: Executor,
  row: {
    sessionId: string;
    replySeq: number;
    connectorId: string;
    platform: string;
    status: 'delivered' | 'failed';
    attempts: number;
    eventSeq: number;
  },
): Promise<void> {
  await tx.execute(
    sql`insert into reply_deliveries (session_id, reply_seq, connector_id, platform, status, attempts, event_seq)
        values (${row.sessionId}, ${row.replySeq}, ${row.connectorId}, ${row.platform}, ${row.status}, ${row.attempts}, ${row.eventSeq})
        on conflict do nothing`,
  );
}
