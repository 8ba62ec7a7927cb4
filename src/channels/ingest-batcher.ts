import type { Database, Executor } from '../db/database.js';
import { GroupCommit, type Settled } from '../db/group-commit.js';
import { isAppError } from '../errors/app-error.js';
import type { NewEvent } from '../sessions/event-store.js';
import type { SessionEvent, SessionRecord } from '../sessions/session-model.js';
import type { CreateSessionInput, SessionService } from '../sessions/session-service.js';
import { lockSessionsForAppend } from '../sessions/session-store.js';
import {
  claimIngestEvent,
  claimKey,
  type DedupRecord,
  ingestEventsBatch,
  releaseIngestClaim,
} from './ingest-store.js';

/** One accepted request: its dedup claim, its event, and the session to create when it does not exist yet. */
export interface IngestCommit {
  claim: Omit<DedupRecord, 'createdAt'> & { sessionEventId: string };
  event: NewEvent;
  newSession: CreateSessionInput & { id: string };
}

/** `event` when applied; undefined when (connector, eventId) was already claimed (a replay). */
export type IngestCommitOutcome = SessionEvent | undefined;

/** Inside a batch: applied (with the session row when the batched statement wrote it), or a replay. */
interface Applied {
  event: SessionEvent | undefined;
  session?: SessionRecord;
}

export interface IngestCommitBatcherOptions {
  /** Batches in flight at once (each holds one pooled connection for one transaction). */
  maxInFlight: number;
  /** Requests per batch. */
  maxBatch: number;
}

/**
 * Group commit for ingest (`GroupCommit`): requests accepted while a batch is committing go together in the next
 * one, and each is acknowledged only after what holds it committed. A session or a dedup key is never in two
 * batches in flight (nor twice in one), so batches never wait on each other's rows and each session's events keep
 * their order.
 *
 * A batch's common case — events for active sessions that no append hook must see — is ONE autocommitted statement
 * (`ingestEventsBatch`: lock the sessions in id order, claim the dedup keys, append the claimed events): one round
 * trip for the whole batch. The rest (new sessions, closed ones, hooked events, or everything if that statement
 * failed) takes the general path in one transaction: lock its sessions in id order, then claim and append (or
 * create and append) one by one. A refusal of one request (its session is closed) releases its claim and leaves the
 * others; if that transaction fails, each request is retried alone, so one bad request never fails its neighbours.
 */
export class IngestCommitBatcher {
  private readonly group: GroupCommit<IngestCommit, IngestCommitOutcome>;
  /** Batches retried request by request after their shared transaction failed. */
  private fallbacks = 0;
  /** Batches whose common case went through the single statement. */
  private singleStatement = 0;

  constructor(
    private readonly deps: {
      database: Database;
      sessions: SessionService;
      /** Told when the after-commit auto-compaction of a batched session fails (the events are committed). */
      onError?: (error: unknown) => void;
    },
    options: IngestCommitBatcherOptions,
  ) {
    this.group = new GroupCommit({
      ...options,
      keys: (c) => [`s:${c.claim.sessionId}`, `d:${claimKey(c.claim.connectorId, c.claim.eventId)}`],
      commit: (commits) => this.commitOrSplit(commits),
    });
  }

  /** Batches, requests, the largest batch, batches retried request by request, and single-statement batches. */
  get stats() {
    const { batches, items, largest } = this.group.stats;
    return {
      batches,
      requests: items,
      largest,
      fallbacks: this.fallbacks,
      singleStatement: this.singleStatement,
    };
  }

  commit(commit: IngestCommit): Promise<IngestCommitOutcome> {
    return this.group.submit(commit);
  }

  private async commitOrSplit(commits: IngestCommit[]): Promise<Settled<IngestCommitOutcome>[]> {
    const { database, sessions } = this.deps;
    const outcomes: Settled<Applied>[] = new Array(commits.length);
    // The common case first: events for active sessions that no append hook must see, in one statement.
    let rest: number[] = [];
    const fast: number[] = [];
    for (const [index, c] of commits.entries()) (sessions.appendHookWants(c.event) ? rest : fast).push(index);
    if (fast.length > 0) {
      try {
        const results = await ingestEventsBatch(
          database.orm,
          fast.map((index) => {
            const c = commits[index]!;
            return { claim: c.claim, event: { ...c.event, id: c.claim.sessionEventId } };
          }),
        );
        for (const [i, result] of results.entries()) {
          const index = fast[i]!;
          if (result.kind === 'appended')
            outcomes[index] = {
              ok: true,
              value: { event: result.appended.event, session: result.appended.session },
            };
          else if (result.kind === 'replay') outcomes[index] = { ok: true, value: { event: undefined } };
          else rest.push(index);
        }
        this.singleStatement += 1;
      } catch {
        // The statement is atomic and wrote nothing: these requests take the general path below.
        rest = [...rest, ...fast];
      }
    }
    if (rest.length > 0) {
      rest.sort((x, y) => x - y);
      const others = await this.commitInTransaction(rest.map((index) => commits[index]!));
      for (const [i, index] of rest.entries()) outcomes[index] = others[i]!;
    }
    return outcomes.map((outcome) => {
      if (!outcome.ok) return outcome;
      const { event, session } = outcome.value;
      // The batched statement bypassed `append`: refresh the memory view and auto-compact as it would have.
      if (session) void sessions.noteAppended(session).catch((error) => this.deps.onError?.(error));
      return { ok: true, value: event };
    });
  }

  /**
   * The general path, in one transaction (new sessions, closed ones, events an append hook must see); if that
   * transaction fails, each request is retried alone, so one bad request never fails its neighbours.
   */
  private async commitInTransaction(commits: IngestCommit[]): Promise<Settled<Applied>[]> {
    try {
      return await this.deps.database.transaction((tx) => this.commitBatch(tx, commits));
    } catch {
      // Something failed the shared transaction (nothing of it committed): each request alone, its own outcome.
      this.fallbacks += 1;
      return Promise.all(
        commits.map((c) =>
          this.deps.database
            .transaction((tx) => this.commitOne(tx, c))
            .then(
              (event) => ({ ok: true as const, value: { event } }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
        ),
      );
    }
  }

  private async commitBatch(tx: Executor, commits: IngestCommit[]): Promise<Settled<Applied>[]> {
    // Every session of the batch locked first, in id order: no lock cycle with another replica's batch.
    await lockSessionsForAppend(
      tx,
      commits.map((c) => c.claim.sessionId),
    );
    const outcomes: Settled<Applied>[] = [];
    for (const c of commits) {
      try {
        outcomes.push({ ok: true, value: { event: await this.commitOne(tx, c) } });
      } catch (error) {
        // A refusal of this request alone (e.g. its session is closed): undo its claim, keep the batch going.
        if (!isAppError(error)) throw error;
        await releaseIngestClaim(tx, c.claim.connectorId, c.claim.eventId);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  /** The one-request path: claim, append (or create the session and append), in the caller's transaction. */
  private async commitOne(tx: Executor, c: IngestCommit): Promise<IngestCommitOutcome> {
    const { sessions } = this.deps;
    if (!(await claimIngestEvent(tx, c.claim))) return undefined;
    try {
      return await sessions.append(c.claim.sessionId, c.event, tx);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'AGENT_GATEWAY_SESSION_NOT_FOUND') throw error;
    }
    await sessions.create(c.newSession, tx);
    return sessions.append(c.claim.sessionId, c.event, tx);
  }
}
