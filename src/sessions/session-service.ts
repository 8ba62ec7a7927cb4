import type { Database, Executor } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import {
  appendEvent,
  type EventQuery,
  latestEvents,
  listEvents,
  moveOldEventsToArchive,
  type NewEvent,
} from './event-store.js';
import type { SessionCache } from './session-cache.js';
import { publicSession, type SessionEvent, type SessionRecord, sessionHealth } from './session-model.js';
import { SYSTEM_ROLE, sessionIdFor } from './session-rules.js';
import {
  ensureSession,
  getCounters,
  getSession,
  listSessions,
  liveTypeCounts,
  markClosed,
  recordCompaction,
  type SessionListQuery,
} from './session-store.js';

export interface SessionServiceOptions {
  database: Database;
  cache: SessionCache;
  staleMinutes: number;
  autoCompactTrigger: number;
  autoCompactKeepRecent: number;
  now?: () => number;
}

export interface CreateSessionInput {
  /** A precomputed id (ingest derives it before its transaction); must equal what `sessionIdFor` would give. */
  id?: string;
  channel: string;
  externalSessionId?: string | null;
  draftId?: string | null;
  connectorId?: string | null;
  roles?: string[];
  metadata?: Record<string, unknown>;
}

export type Source = 'db' | 'memory';

/** Runs inside the append transaction (e.g. enqueue a reply job that commits with the event). */
export type AppendHook = (tx: Executor, event: SessionEvent, session: SessionRecord) => Promise<void>;
export type AppendHookFilter = (event: { type: string; toRole?: string | null }) => boolean;

export interface CompactionResult {
  session: SessionRecord;
  event: SessionEvent;
  keepRecent: number;
  totalBefore: number;
  totalAfter: number;
  keptCount: number;
  prunedCount: number;
  eventTypeCounts: Record<string, number>;
}

/** Sessions and their timelines. Every write to a timeline goes through `appendEvent` in one transaction. */
export class SessionService {
  private readonly database: Database;
  readonly cache: SessionCache;
  private readonly now: () => number;
  private appendHook: AppendHook | undefined;
  private appendHookFilter: AppendHookFilter = () => true;

  constructor(private readonly options: SessionServiceOptions) {
    this.database = options.database;
    this.cache = options.cache;
    this.now = options.now ?? Date.now;
  }

  /**
   * Set once at start by the composition root (the job queue starts after the session service). `wants` tells
   * writers that bypass `append` (the draft cycle's batched step commits) which events the hook must see.
   */
  setAppendHook(hook: AppendHook | undefined, wants: AppendHookFilter = () => true): void {
    this.appendHook = hook;
    this.appendHookFilter = wants;
  }

  /** Whether an event must go through `append` because the append hook acts on it. */
  appendHookWants(event: { type: string; toRole?: string | null }): boolean {
    return this.appendHook !== undefined && this.appendHookFilter(event);
  }

  /**
   * After an append committed outside `append` (batched step commits): refresh the memory view and compact the
   * session if it is past the auto-compaction trigger, as `append` would have.
   */
  async noteAppended(session: SessionRecord, provider?: string | null): Promise<void> {
    this.cache.remember(session, provider);
    const trigger = this.options.autoCompactTrigger;
    if (trigger > 0 && session.status === 'active' && session.eventCount > trigger) {
      const result = await this.database.transaction(async (tx) => {
        const locked = await getSession(tx, session.id, true);
        if (locked?.status !== 'active' || locked.eventCount <= trigger) return undefined;
        return this.compactLocked(tx, session.id, this.options.autoCompactKeepRecent, 'auto_buffer_limit');
      });
      if (result) this.cache.remember(result.session);
    }
  }

  get staleMinutes(): number {
    return this.options.staleMinutes;
  }

  /** Idempotent on (channel, externalSessionId): the id is derived from them. */
  async create(
    input: CreateSessionInput,
    tx?: Executor,
  ): Promise<{ session: SessionRecord; created: boolean }> {
    const run = async (executor: Executor) =>
      ensureSession(executor, {
        id: input.id ?? sessionIdFor(input.channel, input.externalSessionId),
        channel: input.channel,
        externalSessionId: input.externalSessionId ?? null,
        draftId: input.draftId ?? null,
        connectorId: input.connectorId ?? null,
        roles: input.roles ?? [],
        metadata: input.metadata ?? {},
      });
    const result = tx ? await run(tx) : await run(this.database.orm);
    if (!tx) this.cache.remember(result.session);
    return result;
  }

  async get(id: string, source: Source = 'db'): Promise<SessionRecord> {
    const session = source === 'memory' ? this.cache.get(id) : await getSession(this.database.orm, id);
    if (!session) {
      const where = source === 'memory' ? ' in this replica\u2019s memory view (try source=db)' : '';
      throw new AppError('AGENT_GATEWAY_SESSION_NOT_FOUND', `Session ${id} was not found${where}.`);
    }
    if (source === 'db') this.cache.remember(session);
    return session;
  }

  async list(
    query: SessionListQuery,
    source: Source,
  ): Promise<{ sessions: SessionRecord[]; hasMore: boolean }> {
    let rows: SessionRecord[];
    if (source === 'db') {
      rows = await listSessions(this.database.orm, query);
    } else {
      const now = this.now();
      rows = this.cache
        .list(query.provider)
        .filter(
          (s) =>
            (!query.channel || s.channel === query.channel) &&
            (!query.status || s.status === query.status) &&
            (!query.connector || s.connectorId === query.connector) &&
            (query.staleMinutes === undefined || sessionHealth(s, query.staleMinutes, now).stale) &&
            (!query.after ||
              s.updatedAt < query.after.updatedAt ||
              (s.updatedAt === query.after.updatedAt && s.id < query.after.id)),
        )
        .slice(0, query.limit + 1);
    }
    return { sessions: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
  }

  /** Appends in its own transaction (or the caller's) and compacts automatically past the trigger. */
  async append(sessionId: string, input: NewEvent, tx?: Executor): Promise<SessionEvent> {
    const run = async (executor: Executor) => {
      const result = await appendEvent(executor, sessionId, input);
      if (this.appendHook) await this.appendHook(executor, result.event, result.session);
      const trigger = this.options.autoCompactTrigger;
      if (trigger > 0 && result.session.eventCount > trigger) {
        const compaction = await this.compactLocked(
          executor,
          sessionId,
          this.options.autoCompactKeepRecent,
          'auto_buffer_limit',
        );
        return { event: result.event, session: compaction.session };
      }
      return result;
    };
    const result = tx ? await run(tx) : await this.database.transaction(run);
    if (!tx)
      this.cache.remember(
        result.session,
        (result.event.payload as { selectedProvider?: string } | null)?.selectedProvider,
      );
    return result.event;
  }

  async compact(sessionId: string, keepRecent: number): Promise<CompactionResult> {
    const result = await this.database.transaction(async (tx) => {
      const locked = await getSession(tx, sessionId, true);
      if (!locked)
        throw new AppError('AGENT_GATEWAY_SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
      return this.compactLocked(tx, sessionId, keepRecent, 'manual');
    });
    this.cache.remember(result.session);
    return result;
  }

  /** Compaction body; the caller holds the session row lock inside `tx`. */
  private async compactLocked(
    tx: Executor,
    sessionId: string,
    keepRecent: number,
    reason: 'manual' | 'auto_buffer_limit',
  ): Promise<CompactionResult> {
    const outcome = await moveOldEventsToArchive(tx, sessionId, keepRecent);
    await recordCompaction(tx, sessionId, outcome.prunedCount, reason === 'auto_buffer_limit');
    const appended = await appendEvent(
      tx,
      sessionId,
      {
        fromRole: SYSTEM_ROLE,
        type: 'session_compacted',
        payload: {
          reason,
          keepRecent,
          totalBefore: outcome.totalBefore,
          keptCount: outcome.keptCount,
          prunedCount: outcome.prunedCount,
          prunedByType: outcome.prunedByType,
        },
      },
      { allowClosed: true },
    );
    const eventTypeCounts = await liveTypeCounts(tx, sessionId);
    return {
      session: appended.session,
      event: appended.event,
      keepRecent,
      totalBefore: outcome.totalBefore,
      totalAfter: appended.session.eventCount,
      keptCount: outcome.keptCount,
      prunedCount: outcome.prunedCount,
      eventTypeCounts,
    };
  }

  /** Idempotent: a closed session is returned as is; otherwise `session_closed` is appended, then it closes. */
  async close(
    sessionId: string,
    reason = 'admin_close',
    tx?: Executor,
  ): Promise<{ session: SessionRecord; closedNow: boolean }> {
    const run = async (executor: Executor) => {
      const locked = await getSession(executor, sessionId, true);
      if (!locked)
        throw new AppError('AGENT_GATEWAY_SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
      if (locked.status === 'closed') return { session: locked, closedNow: false };
      await appendEvent(executor, sessionId, {
        fromRole: SYSTEM_ROLE,
        type: 'session_closed',
        payload: { reason },
      });
      return { session: await markClosed(executor, sessionId), closedNow: true };
    };
    const result = tx ? await run(tx) : await this.database.transaction(run);
    if (!tx) this.cache.remember(result.session);
    return result;
  }

  async detail(sessionId: string, limit: number, includeArchived: boolean, source: Source) {
    const session = await this.get(sessionId, source);
    const events = await latestEvents(this.database.orm, sessionId, limit, includeArchived);
    return { session, events };
  }

  async events(sessionId: string, query: EventQuery, source: Source) {
    const session = await this.get(sessionId, source);
    const page = await listEvents(this.database.orm, sessionId, query);
    return { session, ...page };
  }

  async status(sessionId: string, source: Source, staleMinutes = this.options.staleMinutes) {
    const s = await this.get(sessionId, source);
    const health = sessionHealth(s, staleMinutes, this.now());
    return {
      sessionId: s.id,
      channel: s.channel,
      draftId: s.draftId,
      status: s.status,
      updatedAt: s.updatedAt,
      lastEventAt: s.lastEventAt,
      lastEventType: s.lastEventType,
      eventCount: s.eventCount,
      archivedCount: s.archivedCount,
      durationMs: durationMs(s),
      cycleCompletedCount: s.cycleCompletedCount,
      cycleFailedCount: s.cycleFailedCount,
      failedStepCount: s.failedStepCount,
      compactCount: s.compactCount,
      staleMinutes,
      stale: health.stale,
      needsAttention: health.needsAttention,
      health: health.health,
    };
  }

  /** Built from the counters kept on append: constant work whatever the timeline's length. */
  async summary(sessionId: string, source: Source) {
    const s = await this.get(sessionId, source);
    const [counters, last] = await Promise.all([
      getCounters(this.database.orm, sessionId),
      latestEvents(this.database.orm, sessionId, 1),
    ]);
    const byType = counters.type ?? {};
    const byRole = counters.role ?? {};
    const attempts = counters.attempt ?? {};
    return {
      session: publicSession(s),
      totals: {
        eventCount: s.eventCount,
        archivedEventCount: s.archivedCount,
        appendedEventCount: s.lastSeq,
        uniqueEventTypes: Object.keys(byType).length,
        uniqueRoles: Object.keys(byRole).length,
        draftCycleStepCount: s.stepCount,
        failedStepCount: s.failedStepCount,
        cycleCompletedCount: s.cycleCompletedCount,
        cycleFailedCount: s.cycleFailedCount,
        durationMs: durationMs(s),
      },
      byType,
      byRole,
      providerUsage: counters.provider ?? {},
      connectorUsage: counters.connector ?? {},
      attemptStatus: {
        success: attempts.success ?? 0,
        failed: attempts.failed ?? 0,
        skipped_cooldown: attempts.skipped_cooldown ?? 0,
      },
      compaction: {
        compactCount: s.compactCount,
        autoCompactCount: s.autoCompactCount,
        prunedCountTotal: s.prunedCountTotal,
        lastCompactedAt: s.lastCompactedAt,
      },
      lastEvent: last[0] ?? null,
    };
  }
}

function durationMs(s: SessionRecord): number {
  return Date.parse(s.lastEventAt ?? s.createdAt) - Date.parse(s.createdAt);
}
