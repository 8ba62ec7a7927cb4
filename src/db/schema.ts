import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Millisecond precision: a timestamp round-trips exactly through a JS Date (keyset cursors rely on it). */
const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/**
 * A session row doubles as its own counter row: `last_seq` is incremented with `UPDATE … RETURNING` inside
 * the append transaction, which row-locks the session and makes seq gap-free across replicas.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    channel: text('channel').notNull(),
    externalSessionId: text('external_session_id'),
    draftId: uuid('draft_id'),
    connectorId: text('connector_id'),
    roles: jsonb('roles').notNull().default(sql`'[]'::jsonb`),
    metadata: jsonb('metadata').notNull().default(sql`'{}'::jsonb`),
    status: text('status').notNull().default('active'),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
    updatedAt: tz('updated_at').notNull().default(sql`clock_timestamp()`),
    lastEventAt: tz('last_event_at'),
    closedAt: tz('closed_at'),
    lastSeq: integer('last_seq').notNull().default(0),
    eventCount: integer('event_count').notNull().default(0),
    archivedCount: integer('archived_count').notNull().default(0),
    lastEventType: text('last_event_type'),
    stepCount: integer('step_count').notNull().default(0),
    failedStepCount: integer('failed_step_count').notNull().default(0),
    /** Provider attempts recorded in this session's step payloads, by status (telemetry roll-ups). */
    attemptSuccessCount: integer('attempt_success_count').notNull().default(0),
    attemptFailedCount: integer('attempt_failed_count').notNull().default(0),
    attemptSkippedCount: integer('attempt_skipped_count').notNull().default(0),
    cycleCompletedCount: integer('cycle_completed_count').notNull().default(0),
    cycleFailedCount: integer('cycle_failed_count').notNull().default(0),
    compactCount: integer('compact_count').notNull().default(0),
    autoCompactCount: integer('auto_compact_count').notNull().default(0),
    prunedCountTotal: integer('pruned_count_total').notNull().default(0),
    lastCompactedAt: tz('last_compacted_at'),
    /** Providers that answered in this session, in first-use order (kept by a trigger on its provider counters). */
    providers: text('providers').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [
    index('sessions_updated_idx').on(t.updatedAt.desc(), t.id.desc()),
    index('sessions_channel_updated_idx').on(t.channel, t.updatedAt.desc()),
    index('sessions_status_last_event_idx').on(t.status, t.lastEventAt),
    index('sessions_connector_idx').on(t.connectorId),
    // Telemetry's exact boundary scans: active sessions by last activity (see telemetry-store.ts).
    index('sessions_active_activity_idx')
      .on(sql`coalesce(${t.lastEventAt}, ${t.createdAt})`)
      .where(sql`${t.status} = 'active'`),
  ],
);

const eventColumns = () => ({
  id: text('id').notNull(),
  sessionId: text('session_id').notNull(),
  seq: integer('seq').notNull(),
  fromRole: text('from_role').notNull(),
  toRole: text('to_role'),
  type: text('type').notNull(),
  payload: jsonb('payload').notNull(),
  connectorId: text('connector_id'),
  provider: text('provider'),
  createdAt: tz('created_at').notNull(),
});

/** The live timeline. Append-only; compaction moves old rows to the archive in one transaction. */
export const sessionEvents = pgTable('session_events', eventColumns(), (t) => [
  primaryKey({ columns: [t.sessionId, t.seq] }),
  uniqueIndex('session_events_id_idx').on(t.id),
  index('session_events_created_idx').on(t.createdAt),
]);

/** Events compacted out of the live timeline; purged only by the retention setting. */
export const sessionEventArchive = pgTable(
  'session_event_archive',
  { ...eventColumns(), archivedAt: tz('archived_at').notNull() },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.seq] }),
    index('session_event_archive_archived_idx').on(t.archivedAt),
  ],
);

/** One row per compaction (manual or automatic), kept on write for the telemetry's hourly trend. */
export const sessionCompactions = pgTable(
  'session_compactions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id').notNull(),
    automatic: boolean('automatic').notNull(),
    prunedCount: integer('pruned_count').notNull(),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
    /** Copied from the session by a trigger (migration 0004) so the hourly trend never joins sessions. */
    channel: text('channel'),
    connectorId: text('connector_id'),
  },
  (t) => [index('session_compactions_created_idx').on(t.createdAt)],
);

/** Per-session counts by dimension (type, role, provider, attempt status, connector), kept on append. */
export const sessionCounters = pgTable(
  'session_counters',
  {
    sessionId: text('session_id').notNull(),
    dimension: text('dimension').notNull(),
    key: text('key').notNull(),
    count: integer('count').notNull(),
    /** Provider counters only, kept by triggers (migration 0004): the UTC hour of the session's `updated_at` and
     * the session's channel and connector ('' for none) — the counter's key in the provider roll-up. */
    updatedHour: tz('updated_hour'),
    channel: text('channel'),
    connectorId: text('connector_id'),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.dimension, t.key] }),
    index('session_counters_dim_key_idx').on(t.dimension, t.key),
  ],
);

/** One row per admin mutation: who (token id), what, on what, with which outcome. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tokenId: text('token_id').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    statusCode: integer('status_code').notNull(),
    requestId: text('request_id').notNull(),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index('audit_log_created_idx').on(t.createdAt)],
);

/** Drafts the agents work on; `revision` is the latest revision number. */
export const drafts = pgTable(
  'drafts',
  {
    id: uuid('id').primaryKey(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    context: jsonb('context'),
    revision: integer('revision').notNull().default(1),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
    updatedAt: tz('updated_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [index('drafts_updated_idx').on(t.updatedAt.desc(), t.id.desc())],
);

/** Every revision of a draft: 1 at creation, then one per judge `merge` verdict. */
export const draftRevisions = pgTable(
  'draft_revisions',
  {
    draftId: uuid('draft_id').notNull(),
    revision: integer('revision').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    source: text('source').notNull(),
    runId: uuid('run_id'),
    verdict: jsonb('verdict'),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.draftId, t.revision] })],
);

/** A durable draft cycle (critic → maker → judge); the pg-boss job carries only its id. */
export const orchestrationRuns = pgTable(
  'orchestration_runs',
  {
    id: uuid('id').primaryKey(),
    sessionId: text('session_id').notNull(),
    draftId: uuid('draft_id').notNull(),
    channel: text('channel').notNull(),
    externalSessionId: text('external_session_id'),
    promptSeed: text('prompt_seed'),
    metadata: jsonb('metadata').notNull().default(sql`'{}'::jsonb`),
    status: text('status').notNull(),
    nextStep: integer('next_step').notNull().default(0),
    verdict: jsonb('verdict'),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
    updatedAt: tz('updated_at').notNull().default(sql`clock_timestamp()`),
    finishedAt: tz('finished_at'),
  },
  (t) => [
    index('orchestration_runs_status_idx').on(t.status, t.updatedAt),
    index('orchestration_runs_session_idx').on(t.sessionId),
  ],
);

/** Exactly-once steps: the (run, step) key is inserted in the same transaction as the step's event. */
export const orchestrationSteps = pgTable(
  'orchestration_steps',
  {
    runId: uuid('run_id').notNull(),
    stepIndex: integer('step_index').notNull(),
    role: text('role').notNull(),
    prompt: text('prompt').notNull(),
    result: jsonb('result').notNull(),
    eventSeq: integer('event_seq').notNull(),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.runId, t.stepIndex] })],
);

/** One reply per (session, triggering event): inserted in the same transaction as the `agent_reply` event. */
export const agentReplies = pgTable(
  'agent_replies',
  {
    sessionId: text('session_id').notNull(),
    inReplyToSeq: integer('in_reply_to_seq').notNull(),
    replySeq: integer('reply_seq').notNull(),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.inReplyToSeq] })],
);

/**
 * Ingest dedup: one row per (connector, eventId), inserted first in the transaction that appends the event, so
 * concurrent duplicates wait on the unique key and exactly one commits an event.
 */
export const ingestDedup = pgTable(
  'ingest_dedup',
  {
    connectorId: text('connector_id').notNull(),
    eventId: text('event_id').notNull(),
    adapter: text('adapter').notNull(),
    channel: text('channel').notNull(),
    sessionId: text('session_id').notNull(),
    externalSessionId: text('external_session_id'),
    sessionEventId: text('session_event_id'),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    primaryKey({ columns: [t.connectorId, t.eventId] }),
    index('ingest_dedup_created_idx').on(t.createdAt),
  ],
);

/**
 * Hourly rollup of ingest outcomes per (connector, channel, outcome, code), flushed in batches from memory. The
 * key set is bounded: unauthenticated requests for unknown connectors share the connector key `_unknown`.
 */
export const ingestCounters = pgTable(
  'ingest_counters',
  {
    hour: tz('hour').notNull(),
    connectorId: text('connector_id').notNull(),
    channel: text('channel').notNull(),
    outcome: text('outcome').notNull(),
    code: text('code').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.hour, t.connectorId, t.channel, t.outcome, t.code] }),
    index('ingest_counters_connector_hour_idx').on(t.connectorId, t.hour),
  ],
);

/** One delivery outcome per reply event: written with `reply_delivered` / `reply_delivery_failed`. */
export const replyDeliveries = pgTable(
  'reply_deliveries',
  {
    sessionId: text('session_id').notNull(),
    replySeq: integer('reply_seq').notNull(),
    connectorId: text('connector_id').notNull(),
    platform: text('platform').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull(),
    eventSeq: integer('event_seq').notNull(),
    createdAt: tz('created_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.replySeq] })],
);

/**
 * Telemetry roll-ups. Triggers (migration 0004) write a delta row for every change to a session or a provider
 * counter into the `*_deltas` tables (insert-only, so concurrent writers never wait on a shared row); a periodic
 * fold (`agw_fold_telemetry()`) moves them into the keyed roll-up rows. A snapshot reads roll-ups plus pending
 * deltas, so it is exact at any moment, and its cost grows with hours × channels × connectors, not with sessions.
 */
const sessionRollupColumns = () => ({
  updatedHour: tz('updated_hour').notNull(),
  activityHour: tz('activity_hour').notNull(),
  channel: text('channel').notNull(),
  adapter: text('adapter').notNull(),
  /** '' when the session did not come from a connector. */
  connectorId: text('connector_id').notNull(),
  status: text('status').notNull(),
  failed: boolean('failed').notNull(),
  sessions: bigint('sessions', { mode: 'number' }).notNull(),
  compacted: bigint('compacted', { mode: 'number' }).notNull(),
  autoCompacted: bigint('auto_compacted', { mode: 'number' }).notNull(),
  events: bigint('events', { mode: 'number' }).notNull(),
  steps: bigint('steps', { mode: 'number' }).notNull(),
  failedSteps: bigint('failed_steps', { mode: 'number' }).notNull(),
  compactions: bigint('compactions', { mode: 'number' }).notNull(),
  autoCompactions: bigint('auto_compactions', { mode: 'number' }).notNull(),
  pruned: bigint('pruned', { mode: 'number' }).notNull(),
  attemptSuccess: bigint('attempt_success', { mode: 'number' }).notNull(),
  attemptFailed: bigint('attempt_failed', { mode: 'number' }).notNull(),
  attemptSkipped: bigint('attempt_skipped', { mode: 'number' }).notNull(),
});

export const telemetrySessionRollups = pgTable('telemetry_session_rollups', sessionRollupColumns(), (t) => [
  primaryKey({
    name: 'telemetry_session_rollups_pk',
    columns: [t.updatedHour, t.activityHour, t.channel, t.adapter, t.connectorId, t.status, t.failed],
  }),
]);

export const telemetrySessionDeltas = pgTable('telemetry_session_deltas', sessionRollupColumns());

/** The session roll-up once per provider a session used: what a provider-filtered snapshot reads. */
export const telemetryProviderSessionRollups = pgTable(
  'telemetry_provider_session_rollups',
  { provider: text('provider').notNull(), ...sessionRollupColumns() },
  (t) => [
    primaryKey({
      name: 'telemetry_provider_session_rollups_pk',
      columns: [
        t.provider,
        t.updatedHour,
        t.activityHour,
        t.channel,
        t.adapter,
        t.connectorId,
        t.status,
        t.failed,
      ],
    }),
  ],
);

export const telemetryProviderSessionDeltas = pgTable('telemetry_provider_session_deltas', {
  provider: text('provider').notNull(),
  ...sessionRollupColumns(),
});

const providerRollupColumns = () => ({
  updatedHour: tz('updated_hour').notNull(),
  channel: text('channel').notNull(),
  connectorId: text('connector_id').notNull(),
  provider: text('provider').notNull(),
  sessions: bigint('sessions', { mode: 'number' }).notNull(),
  events: bigint('events', { mode: 'number' }).notNull(),
});

export const telemetryProviderRollups = pgTable(
  'telemetry_provider_rollups',
  providerRollupColumns(),
  (t) => [
    primaryKey({
      name: 'telemetry_provider_rollups_pk',
      columns: [t.updatedHour, t.channel, t.connectorId, t.provider],
    }),
  ],
);

export const telemetryProviderDeltas = pgTable('telemetry_provider_deltas', providerRollupColumns());
