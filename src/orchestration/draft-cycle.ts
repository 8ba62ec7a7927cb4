import type { Database } from '../db/database.js';
import { AppError, isAppError } from '../errors/app-error.js';
import type { SessionService } from '../sessions/session-service.js';
import { addRevision, getDraft } from './draft-store.js';
import { criticPrompt } from './prompts/critic-prompt.js';
import { judgePrompt } from './prompts/judge-prompt.js';
import { makerPrompt } from './prompts/maker-prompt.js';
import type { PromptContext } from './prompts/prompt-context.js';
import { type RoleRunner, stepPayload } from './role-runner.js';
import {
  advanceRun,
  finishRun,
  getRun,
  insertStep,
  listSteps,
  markRunning,
  type RunRecord,
  type StepRecord,
} from './run-store.js';
import { parseVerdict } from './verdict.js';

export const DRAFT_CYCLE_QUEUE = 'agw-draft-cycle';

/** The cycle's steps in order; each role hands over to the next, the judge back to the author. */
export const cycleSteps = [
  { role: 'critic', next: 'maker', prompt: criticPrompt },
  { role: 'maker', next: 'judge', prompt: makerPrompt },
  { role: 'judge', next: 'author', prompt: judgePrompt },
] as const;

export interface DraftCycleDeps {
  database: Database;
  sessions: SessionService;
  runtime: RoleRunner;
  onFinished?: (run: RunRecord, status: 'completed' | 'failed') => void;
}

/**
 * Executes a run's unfinished steps. Each step's event, its (run, step) row and the run's progress commit in one
 * transaction, so a re-delivered job (crash, another replica) skips finished steps and never duplicates an event.
 * The role call itself happens before that transaction: after a crash it may be repeated, its effects never are.
 */
export class DraftCycle {
  constructor(private readonly deps: DraftCycleDeps) {}

  async execute(runId: string): Promise<void> {
    const { database } = this.deps;
    const run = await getRun(database.orm, runId);
    if (!run || run.status === 'completed' || run.status === 'failed') return;
    const draft = await getDraft(database.orm, run.draftId);
    if (!draft) {
      await this.fail(run, null, 'draft no longer exists');
      return;
    }
    await markRunning(database.orm, runId);
    const done = new Map((await listSteps(database.orm, runId)).map((s) => [s.stepIndex, s]));
    const ctx: PromptContext = {
      title: draft.title,
      body: draft.body,
      context: draft.context,
      promptSeed: run.promptSeed,
    };
    for (const [index, step] of cycleSteps.entries()) {
      let record = done.get(index);
      if (!record) {
        const prompt = step.prompt(ctx);
        const result = await this.deps.runtime.runRole({ role: step.role, prompt });
        record = await this.commitStep(run, index, prompt, result);
        if (!record) return; // the session was closed under us; the run is marked failed
      }
      const output = (record.result.output as string | null) ?? undefined;
      if (step.role === 'critic') ctx.criticOutput = output;
      if (step.role === 'maker') ctx.makerOutput = output;
      if (record.result.failed === true) {
        await this.fail(run, step.role, `${step.role} failed: every provider in its chain failed`);
        return;
      }
    }
    await this.complete(run, ctx.makerOutput ?? '');
  }

  private async commitStep(
    run: RunRecord,
    index: number,
    prompt: string,
    result: Awaited<ReturnType<RoleRunner['runRole']>>,
  ): Promise<StepRecord | undefined> {
    const step = cycleSteps[index]!;
    try {
      return await this.deps.database.transaction(async (tx) => {
        const locked = await getRun(tx, run.id, true);
        const existing = (await listSteps(tx, run.id)).find((s) => s.stepIndex === index);
        if (existing || !locked || locked.status === 'completed' || locked.status === 'failed')
          return existing;
        const payload = stepPayload(run.id, index, result);
        const event = await this.deps.sessions.append(
          run.sessionId,
          { fromRole: step.role, toRole: step.next, type: `draft_cycle_${step.role}_completed`, payload },
          tx,
        );
        await insertStep(tx, run.id, {
          stepIndex: index,
          role: step.role,
          prompt,
          result: payload,
          eventSeq: event.seq,
        });
        await advanceRun(tx, run.id, index + 1);
        return { stepIndex: index, role: step.role, prompt, result: payload, eventSeq: event.seq };
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'AGENT_GATEWAY_SESSION_CLOSED') {
        await this.deps.database.transaction((tx) =>
          finishRun(tx, run.id, { status: 'failed', error: 'session was closed during the run' }),
        );
        this.deps.onFinished?.(run, 'failed');
        return undefined;
      }
      throw error;
    }
  }

  private async complete(run: RunRecord, makerOutput: string): Promise<void> {
    const finished = await this.deps.database.transaction(async (tx) => {
      const locked = await getRun(tx, run.id, true);
      if (!locked || locked.status === 'completed' || locked.status === 'failed') return false;
      const judge = (await listSteps(tx, run.id)).find((s) => s.stepIndex === 2);
      // The judge step is committed by now (this run or an earlier delivery); read its output from the record.
      const verdict = parseVerdict(judge?.result.output as string | undefined);
      let revision: number | null = null;
      if (verdict.verdict === 'merge' && makerOutput.trim()) {
        revision = await addRevision(tx, run.draftId, { body: makerOutput, runId: run.id, verdict });
      }
      const payload = { runId: run.id, draftId: run.draftId, verdict, revision };
      await this.appendFinal(tx, run, {
        fromRole: 'judge',
        toRole: 'author',
        type: 'draft_cycle_completed',
        payload,
      });
      await finishRun(tx, run.id, { status: 'completed', verdict: { ...verdict, revision } });
      return true;
    });
    if (finished) this.deps.onFinished?.(run, 'completed');
  }

  private async fail(run: RunRecord, failedRole: string | null, error: string): Promise<void> {
    const finished = await this.deps.database.transaction(async (tx) => {
      const locked = await getRun(tx, run.id, true);
      if (!locked || locked.status === 'completed' || locked.status === 'failed') return false;
      const payload = { runId: run.id, draftId: run.draftId, failedRole, error };
      await this.appendFinal(tx, run, {
        fromRole: failedRole ?? 'system',
        toRole: 'author',
        type: 'draft_cycle_failed',
        payload,
      });
      await finishRun(tx, run.id, { status: 'failed', error });
      return true;
    });
    if (finished) this.deps.onFinished?.(run, 'failed');
  }

  /** The final event and the session's close, in the caller's transaction; a session closed meanwhile is left as is. */
  private async appendFinal(
    tx: Parameters<Parameters<Database['transaction']>[0]>[0],
    run: RunRecord,
    event: { fromRole: string; toRole: string; type: string; payload: unknown },
  ): Promise<void> {
    try {
      await this.deps.sessions.append(run.sessionId, event, tx);
      await this.deps.sessions.close(run.sessionId, 'draft_cycle_finished', tx);
    } catch (error) {
      if (!(isAppError(error) && error.code === 'AGENT_GATEWAY_SESSION_CLOSED')) throw error;
    }
  }
}

export function draftNotFound(id: string): AppError {
  return new AppError('DRAFT_NOT_FOUND', `Draft ${id} does not exist.`);
}
