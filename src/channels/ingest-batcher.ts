import type { Database, Executor } from '../db/database.js';
import { type AppError, isAppError } from '../errors/app-error.js';
import { appendEventsBatch, type NewEvent } from '../sessions/event-store.js';
import type { SessionEvent, SessionRecord } from '../sessions/session-model.js';
import type { CreateSessionInput, SessionService } from '../sessions/session-service.js';
import { lockSessionsForAppend } from '../sessions/session-store.js';
import {
  claimIngestEvent,
  claimIngestEvents,
  claimKey,
  type DedupRecord,
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

/** Inside a batch: applied (with the session row when the batched statement wrote it), a replay, or a refusal. */
type Settled = { event: SessionEvent | undefined; session?: SessionRecord } | { refused: AppError };

interface Pending {
  commit: IngestCommit;
  resolve(outcome: IngestCommitOutcome): void;
  reject(error: unknown): void;
}

export interface IngestCommitBatcherOptions {
  /** Batches in flight at once (each holds one pooled connection for one transaction). */
  maxInFlight: number;
  /** Requests per batch. */
  maxBatch: number;
}

/**
 * Group commit for ingest: requests accepted while a batch is committing go together in the next one — one
 * transaction and, for events to existing sessions, one statement for the whole batch — and each is acknowledged
 * only after that transaction committed. A session or a dedup key is never in two batches in flight (nor twice in
 * one), so batches never wait on each other's rows and each session's events keep their order.
 *
 * Inside a batch: lock the sessions (in id order), claim the dedup keys of every event for an active session in one
 * statement and append the claimed events in another (`appendEventsBatch`), then take the rest one by one in the same transaction (new sessions, closed ones, events
 * an append hook must see). If the batch transaction fails, each request is retried alone, so one bad request
 * never fails its neighbours.
 */
export class IngestCommitBatcher {
  private pending: Pending[] = [];
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private scheduled = false;
  /** Batches committed, requests in them, the largest batch, and batches retried request by request. */
  readonly stats = { batches: 0, requests: 0, largest: 0, fallbacks: 0 };

  constructor(
    private readonly deps: {
      database: Database;
      sessions: SessionService;
      /** Told when the after-commit auto-compaction of a batched session fails (the events are committed). */
      onError?: (error: unknown) => void;
    },
    private readonly options: IngestCommitBatcherOptions = { maxInFlight: 4, maxBatch: 64 },
  ) {}

  commit(commit: IngestCommit): Promise<IngestCommitOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ commit, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // setImmediate lets every request that finished validation in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch: Pending[] = [];
    const keys = new Set<string>();
    const rest: Pending[] = [];
    for (const item of this.pending) {
      const own = keysOf(item.commit);
      if (batch.length < this.options.maxBatch && own.every((k) => !keys.has(k) && !this.busy.has(k))) {
        batch.push(item);
        for (const k of own) keys.add(k);
      } else {
        rest.push(item);
      }
    }
    this.pending = rest;
    if (batch.length === 0) return; // everything waits for a key already in flight; its end reschedules
    for (const k of keys) this.busy.add(k);
    this.inFlight += 1;
    void this.run(batch).finally(() => {
      for (const k of keys) this.busy.delete(k);
      this.inFlight -= 1;
      this.schedule();
    });
    this.schedule();
  }

  private async run(batch: Pending[]): Promise<void> {
    let outcomes: Settled[];
    this.stats.batches += 1;
    this.stats.requests += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    try {
      outcomes = await this.deps.database.transaction((tx) =>
        this.commitBatch(
          tx,
          batch.map((item) => item.commit),
        ),
      );
    } catch {
      // Something failed the shared transaction (nothing of it committed): each request alone, its own outcome.
      this.stats.fallbacks += 1;
      await Promise.all(
        batch.map((item) =>
          this.deps.database
            .transaction((tx) => this.commitOne(tx, item.commit))
            .then(item.resolve, item.reject),
        ),
      );
      return;
    }
    for (const [index, item] of batch.entries()) {
      const outcome = outcomes[index]!;
      if ('refused' in outcome) {
        item.reject(outcome.refused);
        continue;
      }
      item.resolve(outcome.event);
      // The batched statement bypassed `append`: refresh the memory view and auto-compact as it would have.
      if (outcome.session)
        void this.deps.sessions.noteAppended(outcome.session).catch((error) => this.deps.onError?.(error));
    }
  }

  private async commitBatch(tx: Executor, commits: IngestCommit[]): Promise<Settled[]> {
    const { sessions } = this.deps;
    const status = await lockSessionsForAppend(
      tx,
      commits.map((c) => c.claim.sessionId),
    );
    const fast: number[] = [];
    const slow: number[] = [];
    for (const [index, c] of commits.entries()) {
      if (status.get(c.claim.sessionId) === 'active' && !sessions.appendHookWants(c.event)) fast.push(index);
      else slow.push(index);
    }
    const outcomes: Settled[] = new Array(commits.length);
    if (fast.length > 0) {
      // Two statements for the whole group: the dedup claims, then one append per claimed event.
      const claimed = await claimIngestEvents(
        tx,
        fast.map((index) => commits[index]!.claim),
      );
      const toAppend: number[] = [];
      for (const index of fast) {
        const { claim } = commits[index]!;
        if (claimed.has(claimKey(claim.connectorId, claim.eventId))) toAppend.push(index);
        else outcomes[index] = { event: undefined };
      }
      const appended = await appendEventsBatch(
        tx,
        toAppend.map((index) => {
          const c = commits[index]!;
          return { sessionId: c.claim.sessionId, event: { ...c.event, id: c.claim.sessionEventId } };
        }),
      );
      for (const [i, index] of toAppend.entries()) {
        const { event, session } = appended[i]!;
        outcomes[index] = { event, session };
      }
    }
    for (const index of slow) {
      const c = commits[index]!;
      try {
        outcomes[index] = { event: await this.commitOne(tx, c) };
      } catch (error) {
        // A refusal of this request alone (e.g. its session is closed): undo its claim, keep the batch going.
        if (!isAppError(error)) throw error;
        await releaseIngestClaim(tx, c.claim.connectorId, c.claim.eventId);
        outcomes[index] = { refused: error };
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

function keysOf(commit: IngestCommit): string[] {
  return [`s:${commit.claim.sessionId}`, `d:${commit.claim.connectorId}\u0000${commit.claim.eventId}`];
}
