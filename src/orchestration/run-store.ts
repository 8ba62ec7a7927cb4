import { sql } from 'drizzle-orm';
import { type Executor, jsonColumn, queryOne, queryRows, queryRowsNamed, toIso } from '../db/database.js';
import {
  type EventWriteFacts,
  eventWriteFacts,
  FACT_COLUMNS,
  factColumns,
  type NewEvent,
  newEventId,
  rollupIncrements,
  SESSION_EVENTS_CHANNEL,
} from '../sessions/event-store.js';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface RunRecord {
  id: string;
  sessionId: string;
  draftId: string;
  channel: string;
  externalSessionId: string | null;
  promptSeed: string | null;
  metadata: Record<string, unknown>;
  status: RunStatus;
  nextStep: number;
  verdict: unknown;
  error: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface StepRecord {
  stepIndex: number;
  role: string;
  prompt: string;
  result: Record<string, unknown>;
  eventSeq: number;
}

type Row = Record<string, unknown>;

function runFromRow(row: Row): RunRecord {
  return {
    id: row.id as string,
    sessionId: row.session_id as string,
    draftId: row.draft_id as string,
    channel: row.channel as string,
    externalSessionId: (row.external_session_id as string | null) ?? null,
    promptSeed: (row.prompt_seed as string | null) ?? null,
    metadata: (row.metadata as Record<string, unknown>) ?? {},
    status: row.status as RunStatus,
    nextStep: Number(row.next_step),
    verdict: row.verdict ?? null,
    error: (row.error as string | null) ?? null,
    attempts: Number(row.attempts),
    createdAt: toIso(row.created_at)!,
    updatedAt: toIso(row.updated_at)!,
    finishedAt: toIso(row.finished_at),
  };
}

export async function insertRun(
  tx: Executor,
  run: Pick<
    RunRecord,
    'id' | 'sessionId' | 'draftId' | 'channel' | 'externalSessionId' | 'promptSeed' | 'metadata'
  >,
): Promise<void> {
  await tx.execute(
    sql`insert into orchestration_runs (id, session_id, draft_id, channel, external_session_id, prompt_seed, metadata, status)
        values (${run.id}, ${run.sessionId}, ${run.draftId}, ${run.channel}, ${run.externalSessionId}, ${run.promptSeed},
                ${JSON.stringify(run.metadata)}::jsonb, 'queued')`,
  );
}

export async function getRun(
  executor: Executor,
  id: string,
  forUpdate = false,
): Promise<RunRecord | undefined> {
  const row = await queryOne<Row>(
    executor,
    sql`select * from orchestration_runs where id = ${id} ${forUpdate ? sql`for update` : sql``}`,
  );
  return row ? runFromRow(row) : undefined;
}

export async function listSteps(executor: Executor, runId: string): Promise<StepRecord[]> {
  const rows = await queryRows<Row>(
    executor,
    sql`select * from orchestration_steps where run_id = ${runId} order by step_index`,
  );
  return rows.map((row) => ({
    stepIndex: Number(row.step_index),
    role: row.role as string,
    prompt: row.prompt as string,
    result: row.result as Record<string, unknown>,
    eventSeq: Number(row.event_seq),
  }));
}

/** Claims (run, step); false when another worker already committed that step. */
export async function insertStep(
  tx: Executor,
  runId: string,
  step: { stepIndex: number; role: string; prompt: string; result: unknown; eventSeq: number },
): Promise<boolean> {
  const row = await queryOne<{ run_id: string }>(
    tx,
    sql`insert into orchestration_steps (run_id, step_index, role, prompt, result, event_seq)
        values (${runId}, ${step.stepIndex}, ${step.role}, ${step.prompt}, ${JSON.stringify(step.result)}::jsonb, ${step.eventSeq})
        on conflict do nothing returning run_id`,
  );
  return row !== undefined;
}

export async function markRunning(executor: Executor, id: string): Promise<void> {
  await executor.execute(
    sql`update orchestration_runs set status = 'running', attempts = attempts + 1, updated_at = clock_timestamp()
        where id = ${id} and status in ('queued', 'running')`,
  );
}

export async function advanceRun(tx: Executor, id: string, nextStep: number): Promise<void> {
  await tx.execute(
    sql`update orchestration_runs set next_step = ${nextStep}, updated_at = clock_timestamp() where id = ${id}`,
  );
}

export async function finishRun(
  tx: Executor,
  id: string,
  outcome: { status: 'completed' | 'failed'; verdict?: unknown; error?: string | null },
): Promise<void> {
  await tx.execute(
    sql`update orchestration_runs set status = ${outcome.status}, verdict = ${outcome.verdict === undefined ? null : JSON.stringify(outcome.verdict)}::jsonb,
          error = ${outcome.error ?? null}, updated_at = clock_timestamp(), finished_at = clock_timestamp()
        where id = ${id}`,
  );
}

/** Runs not finished and without progress for `minutes` (their worker died): the sweeper re-queues them. */
export async function staleRunIds(executor: Executor, minutes: number, limit: number): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    executor,
    sql`select id from orchestration_runs where status in ('queued', 'running')
        and updated_at < clock_timestamp() - make_interval(mins => ${minutes}) order by updated_at limit ${limit}`,
  );
  return rows.map((r) => r.id);
}

/**
 * Seconds until a running run's lease lapses (its executor's last progress + `leaseSeconds`, by the database's
 * clock, so replica clock skew does not matter); null when the run is finished or missing.
 */
export async function leaseRemainingSeconds(
  executor: Executor,
  id: string,
  leaseSeconds: number,
): Promise<number | null> {
  const row = await queryOne<{ status: string; remaining: number | string }>(
    executor,
    sql`select status, extract(epoch from (updated_at + make_interval(secs => ${leaseSeconds}::int) - clock_timestamp()))::float8 as remaining
        from orchestration_runs where id = ${id}`,
  );
  if (!row || row.status === 'completed' || row.status === 'failed') return null;
  return Math.max(0, Number(row.remaining));
}

export async function touchRun(executor: Executor, id: string): Promise<void> {
  await executor.execute(sql`update orchestration_runs set updated_at = clock_timestamp() where id = ${id}`);
}

/** A run as its executor needs it: the run, its draft's text and the steps already committed. */
export interface ClaimedRun {
  run: RunRecord;
  draft: { title: string; body: string; context: unknown } | null;
  steps: StepRecord[];
}

/**
 * Takes a run for execution in one statement: marks it running and returns it with its draft and finished steps.
 * With `staleSeconds`, a run already `running` is taken only when it has shown no progress for that long (its
 * executor died); without, any unfinished run is taken (the process that just started it).
 */
export async function claimRun(
  executor: Executor,
  id: string,
  staleSeconds: number | null,
): Promise<ClaimedRun | undefined> {
  const row = await queryOne<Row>(
    executor,
    sql`update orchestration_runs r set status = 'running', attempts = r.attempts + 1, updated_at = clock_timestamp()
        where r.id = ${id} and (r.status = 'queued' or (r.status = 'running' and (${staleSeconds}::int is null
          or r.updated_at < clock_timestamp() - make_interval(secs => ${staleSeconds}::int))))
        returning r.*,
          (select json_build_object('title', d.title, 'body', d.body, 'context', d.context) from drafts d where d.id = r.draft_id) as draft_json,
          (select coalesce(json_agg(json_build_object('stepIndex', s.step_index, 'role', s.role, 'prompt', s.prompt,
             'result', s.result, 'eventSeq', s.event_seq) order by s.step_index), '[]'::json)
           from orchestration_steps s where s.run_id = r.id) as steps_json`,
  );
  if (!row) return undefined;
  return {
    run: runFromRow(row),
    draft: (jsonColumn(row.draft_json) as ClaimedRun['draft']) ?? null,
    steps: jsonColumn(row.steps_json) as StepRecord[],
  };
}

/** One event a run commit appends, with the facts its counters and roll-up columns need. */
export interface RunCommitEvent {
  id: string;
  fromRole: string;
  toRole: string | null;
  type: string;
  payload: unknown;
  facts: EventWriteFacts;
}

/** A run commit's event with a new id and its write facts. */
export function runCommitEvent(event: NewEvent & { toRole: string | null }): RunCommitEvent {
  return {
    id: newEventId(),
    fromRole: event.fromRole,
    toRole: event.toRole,
    type: event.type,
    payload: event.payload,
    facts: eventWriteFacts(event),
  };
}

/**
 * One atomic piece of a run's progress: a step (advance the run if it is still at that step, append the step event,
 * record the (run, step) row) or the run's end (finish it if unfinished, append the final events, close the session).
 */
export type RunCommit = {
  runId: string;
  sessionId: string;
  events: RunCommitEvent[];
  closeSession: boolean;
} & (
  | {
      kind: 'step';
      step: { index: number; role: string; prompt: string; result: unknown };
      /** The run ends with this step (its first event is the step's; the final events follow). */
      end?: { status: 'completed' | 'failed'; verdict: unknown; error: string | null };
    }
  | { kind: 'completed' | 'failed'; verdict: unknown; error: string | null }
);

export interface RunCommitOutcome {
  /** False when the run was not at that step or was already finished (another executor got there first). */
  applied: boolean;
  /** The session row after the append; null when the run changed but the session was closed or missing. */
  sessionRow: Row | null;
  /** The seq of the commit's last event (a step's own event is its first: `lastSeq - events.length + 1`). */
  lastSeq: number | null;
}

function commitInput(commit: RunCommit, ord: number) {
  const counters = new Map<string, { dimension: string; key: string; count: number }>();
  let stepInc = 0;
  let failedInc = 0;
  let completedInc = 0;
  let cycleFailedInc = 0;
  const attempts = { success: 0, failed: 0, skipped: 0 };
  for (const event of commit.events) {
    attempts.success += event.facts.attempts.success;
    attempts.failed += event.facts.attempts.failed;
    attempts.skipped += event.facts.attempts.skipped;
    for (const [dimension, key, count] of event.facts.counters) {
      const id = `${dimension}\u0000${key}`;
      const entry = counters.get(id);
      if (entry) entry.count += count;
      else counters.set(id, { dimension, key, count });
    }
    stepInc += event.facts.stepIncrement;
    failedInc += event.facts.failedStepIncrement;
    completedInc += event.facts.cycleCompletedIncrement;
    cycleFailedInc += event.facts.cycleFailedIncrement;
  }
  return {
    ord,
    run_id: commit.runId,
    session_id: commit.sessionId,
    kind: commit.kind,
    step_index: commit.kind === 'step' ? commit.step.index : null,
    role: commit.kind === 'step' ? commit.step.role : null,
    prompt: commit.kind === 'step' ? commit.step.prompt : null,
    result: commit.kind === 'step' ? (commit.step.result ?? {}) : null,
    final_status: commit.kind === 'step' ? (commit.end?.status ?? null) : commit.kind,
    verdict: (commit.kind === 'step' ? commit.end?.verdict : commit.verdict) ?? null,
    error: (commit.kind === 'step' ? commit.end?.error : commit.error) ?? null,
    close_session: commit.closeSession,
    events: commit.events.map((event, index) => ({
      n: index + 1,
      id: event.id,
      from_role: event.fromRole,
      to_role: event.toRole,
      type: event.type,
      payload: event.payload ?? {},
      provider: event.facts.provider,
    })),
    event_count: commit.events.length,
    last_type: commit.events.at(-1)?.type ?? null,
    step_inc: stepInc,
    failed_inc: failedInc,
    completed_inc: completedInc,
    cycle_failed_inc: cycleFailedInc,
    attempt_success: attempts.success,
    attempt_failed: attempts.failed,
    attempt_skipped: attempts.skipped,
    counters: [...counters.values()],
  };
}

/**
 * Commits many runs' progress (steps and ends, of different runs and sessions) in ONE statement, so concurrent
 * cycles share round trips. Per commit it does what a step or final transaction does, with the same guards:
 * the run row changes only if it is still at that step / unfinished (its row lock turns a concurrent executor's
 * identical commit into a no-op); the events are appended exactly as `appendEvent` appends them (row-locked
 * `last_seq` counter, roll-up columns, counters, NOTIFY) and only to an active session. The statement is atomic.
 * Callers must not put two commits of one session in a batch.
 */
export async function commitRunBatch(executor: Executor, commits: RunCommit[]): Promise<RunCommitOutcome[]> {
  const input = JSON.stringify(commits.map(commitInput));
  const rows = await queryRowsNamed<Row>(
    executor,
    'agw_commit_run_batch',
    sql`with input as (
          select * from jsonb_to_recordset(${input}::jsonb) as t(
            ord int, run_id uuid, session_id text, kind text, step_index int, role text, prompt text, result jsonb,
            final_status text, verdict jsonb, error text, close_session boolean, events jsonb, event_count int, last_type text,
            step_inc int, failed_inc int, completed_inc int, cycle_failed_inc int, attempt_success int,
            attempt_failed int, attempt_skipped int, counters jsonb)
        ), applied as (
          update orchestration_runs r set
            next_step = case when i.kind = 'step' then i.step_index + 1 else r.next_step end,
            status = coalesce(i.final_status, 'running'),
            verdict = case when i.final_status is null then r.verdict else i.verdict end,
            error = case when i.final_status is null then r.error else i.error end,
            finished_at = case when i.final_status is null then r.finished_at else clock_timestamp() end,
            updated_at = clock_timestamp()
          from input i
          where r.id = i.run_id and r.status in ('queued', 'running')
            and (i.kind <> 'step' or r.next_step = i.step_index)
          returning i.ord
        ), appended as (
          update sessions s set
            last_seq = s.last_seq + i.event_count,
            event_count = s.event_count + i.event_count,
            updated_at = clock_timestamp(),
            last_event_at = clock_timestamp(),
            last_event_type = i.last_type,
            ${rollupIncrements},
            status = case when i.close_session then 'closed' else s.status end,
            closed_at = case when i.close_session then clock_timestamp() else s.closed_at end
          from input i join applied a on a.ord = i.ord
          where s.id = i.session_id and s.status = 'active' and i.event_count > 0
          returning s.*, i.ord as input_ord
        ), new_events as (
          select s.id as session_id, s.last_seq - i.event_count + e.n as seq, s.updated_at, e.*
          from appended s join input i on i.ord = s.input_ord
            cross join lateral jsonb_to_recordset(i.events)
              as e(n int, id text, from_role text, to_role text, type text, payload jsonb, provider text)
        ), inserted as (
          insert into session_events (id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at)
          select id, session_id, seq, from_role, to_role, type, payload, null, provider, updated_at from new_events
          returning session_id
        ), recorded as (
          insert into orchestration_steps (run_id, step_index, role, prompt, result, event_seq)
          select i.run_id, i.step_index, i.role, i.prompt, i.result, s.last_seq - i.event_count + 1
          from appended s join input i on i.ord = s.input_ord
          where i.kind = 'step'
          on conflict do nothing
          returning run_id
        ), counted as (
          insert into session_counters (session_id, dimension, key, count)
          select s.id, c.dimension, c.key, c.count
          from appended s join input i on i.ord = s.input_ord
            cross join lateral jsonb_to_recordset(i.counters) as c(dimension text, key text, count int)
          on conflict (session_id, dimension, key) do update set count = session_counters.count + excluded.count
          returning session_id
        ), notified as (
          select pg_notify(${SESSION_EVENTS_CHANNEL}, json_build_object('sessionId', session_id, 'seq', seq)::text)
          from new_events
        )
        select i.ord, a.ord is not null as applied, to_jsonb(s) - 'input_ord' as session_row, s.last_seq,
          (select count(*) from notified) as notified, (select count(*) from inserted) as inserted,
          (select count(*) from recorded) as recorded, (select count(*) from counted) as counted
        from input i left join applied a on a.ord = i.ord left join appended s on s.input_ord = i.ord
        order by i.ord`,
  );
  return rows.map((row) => ({
    applied: row.applied === true,
    sessionRow: jsonColumn(row.session_row) as Row | null,
    lastSeq: row.last_seq === null || row.last_seq === undefined ? null : Number(row.last_seq),
  }));
}

/** A run started in a session created for it (no externalSessionId): the common orchestrate call. */
export interface NewSessionRun {
  runId: string;
  sessionId: string;
  draftId: string;
  channel: string;
  promptSeed: string | null;
  metadata: Record<string, unknown>;
  roles: string[];
  /** The `draft_cycle_started` event; its payload gets the draft's current `revision`. */
  event: RunCommitEvent;
  /** Started by the process that will execute it: the run is inserted already claimed (`running`, attempt 1). */
  local?: boolean;
}

/** One start's outcome: not created (its draft does not exist), or created and, for a local start, claimed. */
export interface StartedRun {
  created: boolean;
  claimed?: ClaimedRun;
}

/**
 * Starts runs in brand-new sessions in ONE statement (group-committed starts): each session row (already counting
 * its first event), its run row and `draft_cycle_started` as seq 1 with its counters and NOTIFY — what
 * `ensureSession` + `insertRun` + `appendEvent` do in six round trips per run. A fresh session has no concurrent
 * writer, so seq 1 needs no counter lock. Per input whether it was
 * created (false: its draft does not exist, and nothing was written for it). A local start's run is inserted
 * already claimed and comes back as its executor needs it, so the starting process skips the claim round trip.
 */
export async function startRunsInNewSessions(tx: Executor, inputs: NewSessionRun[]): Promise<StartedRun[]> {
  if (inputs.length === 0) return [];
  const input = inputs.map((run, ord) => {
    const { event } = run;
    return {
      ord,
      local: run.local === true,
      run_id: run.runId,
      session_id: run.sessionId,
      draft_id: run.draftId,
      channel: run.channel,
      prompt_seed: run.promptSeed,
      metadata: run.metadata,
      roles: run.roles,
      event_id: event.id,
      from_role: event.fromRole,
      to_role: event.toRole,
      type: event.type,
      payload: event.payload ?? {},
      ...factColumns(event.facts),
    };
  });
  const rows = await queryRowsNamed<Row>(
    tx,
    'agw_start_runs_in_new_sessions',
    sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as i(
            ord int, local boolean, run_id uuid, session_id text, draft_id uuid, channel text, prompt_seed text, metadata jsonb,
            roles jsonb, event_id text, from_role text, to_role text, type text, payload jsonb, ${FACT_COLUMNS})
        ), draft as (
          select id, revision, title, body, context from drafts where id in (select draft_id from input)
        ), created as (
          insert into sessions (id, channel, draft_id, roles, metadata, last_seq, event_count, last_event_at,
                                last_event_type, step_count, failed_step_count, cycle_completed_count, cycle_failed_count,
                                attempt_success_count, attempt_failed_count, attempt_skipped_count)
          select i.session_id, i.channel, d.id, i.roles, i.metadata, 1, 1, clock_timestamp(), i.type, i.step_inc,
                 i.failed_inc, i.completed_inc, i.cycle_failed_inc, i.attempt_success, i.attempt_failed,
                 i.attempt_skipped
          from input i join draft d on d.id = i.draft_id
          order by i.ord
          returning id, draft_id, channel, updated_at
        ), run as (
          insert into orchestration_runs (id, session_id, draft_id, channel, external_session_id, prompt_seed, metadata,
                                          status, attempts)
          select i.run_id, c.id, c.draft_id, c.channel, null, i.prompt_seed, i.metadata,
                 case when i.local then 'running' else 'queued' end, case when i.local then 1 else 0 end
          from created c join input i on i.session_id = c.id
          returning *
        ), inserted as (
          insert into session_events (id, session_id, seq, from_role, to_role, type, payload, connector_id, provider, created_at)
          select i.event_id, c.id, 1, i.from_role, i.to_role, i.type,
                 i.payload || jsonb_build_object('revision', d.revision), null, i.provider, c.updated_at
          from created c join input i on i.session_id = c.id join draft d on d.id = c.draft_id
        ), counted as (
          insert into session_counters (session_id, dimension, key, count)
          select c.id, x.dimension, x.key, x.count
          from created c join input i on i.session_id = c.id,
               jsonb_to_recordset(i.counters) as x(dimension text, key text, count int)
        ), notified as (
          select count(pg_notify(${SESSION_EVENTS_CHANNEL}, json_build_object('sessionId', c.id, 'seq', 1)::text)) as n
          from created c
        )
        select i.ord, (c.id is not null) as created,
          case when i.local and c.id is not null then to_jsonb(r) end as run_row,
          case when i.local and c.id is not null
               then json_build_object('title', d.title, 'body', d.body, 'context', d.context) end as draft_json
        from input i left join created c on c.id = i.session_id left join run r on r.session_id = c.id
          left join draft d on d.id = c.draft_id, notified
        order by i.ord`,
  );
  return rows.map((row) => {
    if (!row.created) return { created: false };
    if (!row.run_row) return { created: true };
    return {
      created: true,
      claimed: {
        run: runFromRow(jsonColumn(row.run_row) as Row),
        draft: (jsonColumn(row.draft_json) as ClaimedRun['draft']) ?? null,
        steps: [],
      },
    };
  });
}
