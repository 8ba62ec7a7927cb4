import { sql } from 'drizzle-orm';
import { type Executor, queryOne, queryRows, toIso } from '../db/database.js';

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

export async function touchRun(executor: Executor, id: string): Promise<void> {
  await executor.execute(sql`update orchestration_runs set updated_at = clock_timestamp() where id = ${id}`);
}
