import type { Database } from '../db/database.js';
import { AppError, isAppError } from '../errors/app-error.js';
import type { NewEvent } from '../sessions/event-store.js';
import { sessionFromRow } from '../sessions/session-model.js';
import { SYSTEM_ROLE } from '../sessions/session-rules.js';
import type { SessionService } from '../sessions/session-service.js';
import { addRevision } from './draft-store.js';
import { criticPrompt } from './prompts/critic-prompt.js';
import { judgePrompt } from './prompts/judge-prompt.js';
import { makerPrompt } from './prompts/maker-prompt.js';
import type { PromptContext } from './prompts/prompt-context.js';
import { type RoleRunner, stepPayload } from './role-runner.js';
import type { RunCommitBatcher } from './run-commit-batcher.js';
import {
  advanceRun,
  type ClaimedRun,
  claimRun,
  finishRun,
  getRun,
  insertStep,
  leaseRemainingSeconds,
  listSteps,
  type RunRecord,
  runCommitEvent,
  type StepRecord,
  touchRun,
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
  /** Group commit of steps and run ends (shared by every cycle in this process). */
  commits: RunCommitBatcher;
  /** A running run whose executor shows no progress for this long is taken over by its job. */
  leaseSeconds: number;
  /** Puts a run's job back for later: another executor holds the run. */
  requeue(runId: string, delaySeconds: number): Promise<void>;
  onFinished?: (run: RunRecord, status: 'completed' | 'failed') => void;
}

/**
 * Executes a run's unfinished steps. Each step's event, its (run, step) row and the run's progress commit
 * atomically (one statement, shared with other cycles' steps by the batcher), so a second executor (after a crash,
 * on another replica) skips finished steps and never duplicates an event. The role call itself happens before that
 * commit: after a crash it may be repeated, its effects never are.
 *
 * Two ways in: `runLocal` right after the start transaction committed in this process (no queue round trip), and
 * `runFromJob` when the run's job fires — immediately when no local executor took the run, otherwise one lease
 * later as the backstop that resumes the run if this process died.
 */
export class DraftCycle {
  constructor(private readonly deps: DraftCycleDeps) {}

  /** The process that started the run executes it now (claimed by its start, or claimed here). */
  async runLocal(runId: string, claimedAtStart?: ClaimedRun, early?: EarlyStep): Promise<void> {
    const claimed = claimedAtStart ?? (await claimRun(this.deps.database.orm, runId, null));
    if (claimed) await this.execute(claimed, early);
  }

  /**
   * Starts the first role's call for a run about to be started from `ctx` (the draft as read before the start
   * commits), so the call overlaps that commit. The run uses it only if its prompt is exactly the one the committed
   * start leads to; otherwise (the draft changed in between, the start failed) the answer is dropped.
   */
  beginFirstStep(ctx: PromptContext): EarlyStep {
    const step = cycleSteps[0];
    const prompt = step.prompt(ctx);
    const call = this.deps.runtime.runRole({ role: step.role, prompt });
    call.catch(() => undefined);
    return { prompt, call };
  }

  /**
   * The run's job fired: take the run unless a live executor holds it; then look again when that executor's lease
   * would lapse (not a whole lease later: a replica that died just after its last progress is taken over one lease
   * after that progress, not up to two).
   */
  async runFromJob(runId: string): Promise<void> {
    const { database, leaseSeconds } = this.deps;
    const claimed = await claimRun(database.orm, runId, leaseSeconds);
    if (claimed) {
      await this.execute(claimed);
      return;
    }
    const remaining = await leaseRemainingSeconds(database.orm, runId, leaseSeconds);
    if (remaining !== null) await this.deps.requeue(runId, Math.max(1, Math.ceil(remaining)));
  }

  private async execute(claimed: ClaimedRun, early?: EarlyStep): Promise<void> {
    const { run } = claimed;
    // Progress is the lease: a long provider call must not look like a dead executor.
    const heartbeat = setInterval(
      () => void touchRun(this.deps.database.orm, run.id).catch(() => undefined),
      Math.max(1000, (this.deps.leaseSeconds * 1000) / 3),
    );
    heartbeat.unref();
    try {
      await this.executeSteps(claimed, early);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async executeSteps({ run, draft, steps }: ClaimedRun, early?: EarlyStep): Promise<void> {
    if (!draft) {
      await this.fail(run, null, 'draft no longer exists');
      return;
    }
    const done = new Map(steps.map((s) => [s.stepIndex, s]));
    const ctx: PromptContext = {
      title: draft.title,
      body: draft.body,
      context: draft.context,
      promptSeed: run.promptSeed,
    };
    // A step's commit runs while the next step's role call is in flight: the next prompt needs only this step's
    // output, known before the commit. The next commit waits for this one, so steps still commit in order; if this
    // one did not apply (another executor committed the step, or the run ended elsewhere) the call in flight is
    // dropped and the run is taken up again from what the database holds.
    let committing: Promise<StepCommitted> | undefined;
    let judge: StepRecord | undefined;
    for (const [index, step] of cycleSteps.entries()) {
      let record = done.get(index);
      if (!record) {
        const prompt = step.prompt(ctx);
        const call =
          index === 0 && early?.prompt === prompt
            ? early.call
            : this.deps.runtime.runRole({ role: step.role, prompt });
        // Awaited below unless dropped; never an unhandled rejection while the previous commit is awaited.
        call.catch(() => undefined);
        if (committing) {
          const previous = await committing;
          committing = undefined;
          if (previous !== 'ours') {
            if (previous === 'retake') await this.retake(run, draft);
            return;
          }
        }
        const result = await call;
        const last = index === cycleSteps.length - 1;
        if (result.failed || last) {
          // The run ends with this step: the step and the run's end commit together where they can.
          await this.commitLastStep(run, draft, index, prompt, result, ctx);
          return;
        }
        const payload = stepPayload(run.id, index, result);
        committing = this.commitStep(run, index, prompt, payload);
        record = { stepIndex: index, role: step.role, prompt, result: payload, eventSeq: 0 };
      }
      const output = (record.result.output as string | null) ?? undefined;
      if (step.role === 'critic') ctx.criticOutput = output;
      if (step.role === 'maker') ctx.makerOutput = output;
      if (step.role === 'judge') judge = record;
      if (record.result.failed === true) {
        await this.fail(run, step.role, failedRoleError(step.role));
        return;
      }
    }
    // Every step was committed before this executor took the run (a resumed run whose end did not commit).
    await this.complete(run, ctx.makerOutput ?? '', judge);
  }

  /** Another executor got ahead of this one: continue from the steps the database holds, unless the run ended. */
  private async retake(run: RunRecord, draft: NonNullable<ClaimedRun['draft']>): Promise<void> {
    const current = await getRun(this.deps.database.orm, run.id);
    if (!current || current.status === 'completed' || current.status === 'failed') return;
    const steps = await listSteps(this.deps.database.orm, run.id);
    await this.executeSteps({ run: current, draft, steps });
  }

  /**
   * Commits a step that leaves the run running (batched with other cycles' steps). `ours` when it applied;
   * `retake` when another executor committed it first; `stopped` when the run is over (ended elsewhere, or its
   * session was closed under it: then the run is marked failed here).
   */
  private async commitStep(
    run: RunRecord,
    index: number,
    prompt: string,
    payload: ReturnType<typeof stepPayload>,
  ): Promise<StepCommitted> {
    const step = cycleSteps[index]!;
    const event = stepEvent(index, payload);
    const { sessions } = this.deps;
    // An append hook that wants this event (e.g. an operator listed it as a reply type) needs the transaction path.
    if (sessions.appendHookWants(event)) {
      const record = await this.commitStepInTransaction(run, index, prompt, payload, event);
      if (!record) return 'stopped';
      return record.prompt === prompt && record.result === payload ? 'ours' : 'retake';
    }
    const outcome = await this.deps.commits.commit({
      kind: 'step',
      runId: run.id,
      sessionId: run.sessionId,
      step: { index, role: step.role, prompt, result: payload },
      events: [runCommitEvent(event)],
      closeSession: false,
    });
    if (!outcome.applied) return 'retake';
    if (!outcome.sessionRow) {
      await this.failClosedSession(run);
      return 'stopped';
    }
    await sessions.noteAppended(sessionFromRow(outcome.sessionRow), payload.selectedProvider);
    return 'ours';
  }

  /**
   * The step that ends the run (the judge's, or the first failed one): one batched commit for the step, the final
   * event, `session_closed` and the run's end — unless the judge says merge (the new draft revision needs the
   * transaction path) or an append hook must see one of the events; then the step commits alone and the end
   * follows as before.
   */
  private async commitLastStep(
    run: RunRecord,
    draft: NonNullable<ClaimedRun['draft']>,
    index: number,
    prompt: string,
    result: Awaited<ReturnType<RoleRunner['runRole']>>,
    ctx: PromptContext,
  ): Promise<void> {
    const step = cycleSteps[index]!;
    const payload = stepPayload(run.id, index, result);
    const record: StepRecord = { stepIndex: index, role: step.role, prompt, result: payload, eventSeq: 0 };
    const makerOutput = ctx.makerOutput ?? '';
    let end: { status: 'completed' | 'failed'; verdict: unknown; error: string | null };
    let final: { fromRole: string; toRole: string; type: string; payload: unknown };
    if (result.failed) {
      const error = failedRoleError(step.role);
      end = { status: 'failed', verdict: null, error };
      final = failedEvent(run, step.role, error);
    } else {
      const verdict = parseVerdict(result.output ?? undefined);
      const merging = verdict.verdict === 'merge' && makerOutput.trim() !== '';
      end = { status: 'completed', verdict: { ...verdict, revision: null }, error: null };
      final = completedEvent(run, verdict, null);
      if (merging) {
        if ((await this.commitStep(run, index, prompt, payload)) === 'ours')
          await this.complete(run, makerOutput, record);
        return;
      }
    }
    const event = stepEvent(index, payload);
    const { sessions } = this.deps;
    if ([event, final, CLOSED_EVENT].some((e) => sessions.appendHookWants(e))) {
      if ((await this.commitStep(run, index, prompt, payload)) !== 'ours') return;
      if (result.failed) await this.fail(run, step.role, failedRoleError(step.role));
      else await this.complete(run, makerOutput, record);
      return;
    }
    const outcome = await this.deps.commits.commit({
      kind: 'step',
      runId: run.id,
      sessionId: run.sessionId,
      step: { index, role: step.role, prompt, result: payload },
      end,
      events: [runCommitEvent(event), runCommitEvent(final), runCommitEvent(CLOSED_EVENT)],
      closeSession: true,
    });
    if (!outcome.applied) {
      await this.retake(run, draft);
      return;
    }
    if (!outcome.sessionRow) {
      await this.failClosedSession(run);
      return;
    }
    await sessions.noteAppended(sessionFromRow(outcome.sessionRow), payload.selectedProvider);
    this.deps.onFinished?.(run, end.status);
  }

  private async failClosedSession(run: RunRecord): Promise<void> {
    await this.deps.database.transaction((tx) =>
      finishRun(tx, run.id, { status: 'failed', error: 'session was closed during the run' }),
    );
    this.deps.onFinished?.(run, 'failed');
  }

  private async commitStepInTransaction(
    run: RunRecord,
    index: number,
    prompt: string,
    payload: ReturnType<typeof stepPayload>,
    event: NewEvent,
  ): Promise<StepRecord | undefined> {
    const step = cycleSteps[index]!;
    try {
      return await this.deps.database.transaction(async (tx) => {
        const locked = await getRun(tx, run.id, true);
        const existing = (await listSteps(tx, run.id)).find((s) => s.stepIndex === index);
        if (existing || !locked || locked.status === 'completed' || locked.status === 'failed')
          return existing;
        const appended = await this.deps.sessions.append(run.sessionId, event, tx);
        await insertStep(tx, run.id, {
          stepIndex: index,
          role: step.role,
          prompt,
          result: payload,
          eventSeq: appended.seq,
        });
        await advanceRun(tx, run.id, index + 1);
        return { stepIndex: index, role: step.role, prompt, result: payload, eventSeq: appended.seq };
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'AGENT_GATEWAY_SESSION_CLOSED') {
        await this.failClosedSession(run);
        return undefined;
      }
      throw error;
    }
  }

  private async complete(run: RunRecord, makerOutput: string, judge: StepRecord | undefined): Promise<void> {
    // The judge step is committed by now (by this executor or an earlier one); its record carries the output.
    const parsed = parseVerdict(judge?.result.output as string | undefined);
    if (!(parsed.verdict === 'merge' && makerOutput.trim())) {
      // No new revision: the run's end is one batched commit (unless an append hook must see its events).
      const ended = await this.endBatched(run, completedEvent(run, parsed, null), {
        kind: 'completed',
        verdict: { ...parsed, revision: null },
        error: null,
      });
      if (ended) return;
    }
    const finished = await this.deps.database.transaction(async (tx) => {
      const locked = await getRun(tx, run.id, true);
      if (!locked || locked.status === 'completed' || locked.status === 'failed') return false;
      // The judge step is committed by now (by this executor or an earlier one); its record carries the output.
      const verdict = parseVerdict(judge?.result.output as string | undefined);
      let revision: number | null = null;
      if (verdict.verdict === 'merge' && makerOutput.trim()) {
        revision = await addRevision(tx, run.draftId, { body: makerOutput, runId: run.id, verdict });
      }
      await this.appendFinal(tx, run, completedEvent(run, verdict, revision));
      await finishRun(tx, run.id, { status: 'completed', verdict: { ...verdict, revision } });
      return true;
    });
    if (finished) this.deps.onFinished?.(run, 'completed');
  }

  private async fail(run: RunRecord, failedRole: string | null, error: string): Promise<void> {
    const final = failedEvent(run, failedRole, error);
    if (await this.endBatched(run, final, { kind: 'failed', verdict: null, error })) return;
    const finished = await this.deps.database.transaction(async (tx) => {
      const locked = await getRun(tx, run.id, true);
      if (!locked || locked.status === 'completed' || locked.status === 'failed') return false;
      await this.appendFinal(tx, run, final);
      await finishRun(tx, run.id, { status: 'failed', error });
      return true;
    });
    if (finished) this.deps.onFinished?.(run, 'failed');
  }

  /**
   * The run's end as one batched commit: finish the run if unfinished, append the final event and `session_closed`
   * and close the session (a session closed meanwhile is left as is). False when an append hook must see these
   * events, so the caller takes the transaction path.
   */
  private async endBatched(
    run: RunRecord,
    final: { fromRole: string; toRole: string; type: string; payload: unknown },
    end: { kind: 'completed' | 'failed'; verdict: unknown; error: string | null },
  ): Promise<boolean> {
    const { sessions } = this.deps;
    if (sessions.appendHookWants(final) || sessions.appendHookWants(CLOSED_EVENT)) return false;
    const outcome = await this.deps.commits.commit({
      ...end,
      runId: run.id,
      sessionId: run.sessionId,
      events: [runCommitEvent(final), runCommitEvent(CLOSED_EVENT)],
      closeSession: true,
    });
    if (outcome.applied) {
      if (outcome.sessionRow) await sessions.noteAppended(sessionFromRow(outcome.sessionRow));
      this.deps.onFinished?.(run, end.kind);
    }
    return true;
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

/** The first role's call, begun before the run's start committed (`DraftCycle.beginFirstStep`). */
export interface EarlyStep {
  prompt: string;
  call: ReturnType<RoleRunner['runRole']>;
}

/** How a commit of a step left the run: see `DraftCycle.commitStep`. */
type StepCommitted = 'ours' | 'retake' | 'stopped';

/** The event that closes a cycle's session with the run's end. */
const CLOSED_EVENT = {
  fromRole: SYSTEM_ROLE,
  toRole: null,
  type: 'session_closed',
  payload: { reason: 'draft_cycle_finished' },
};

function stepEvent(index: number, payload: ReturnType<typeof stepPayload>) {
  const step = cycleSteps[index]!;
  return { fromRole: step.role, toRole: step.next, type: `draft_cycle_${step.role}_completed`, payload };
}

/** The run's final event when it completes: the judge's parsed verdict and the new draft revision, if any. */
function completedEvent(run: RunRecord, verdict: ReturnType<typeof parseVerdict>, revision: number | null) {
  return {
    fromRole: 'judge',
    toRole: 'author',
    type: 'draft_cycle_completed',
    payload: { runId: run.id, draftId: run.draftId, verdict, revision },
  };
}

/** The run's final event when it fails (`failedRole` null when no role ran, e.g. the draft is gone). */
function failedEvent(run: RunRecord, failedRole: string | null, error: string) {
  return {
    fromRole: failedRole ?? SYSTEM_ROLE,
    toRole: 'author',
    type: 'draft_cycle_failed',
    payload: { runId: run.id, draftId: run.draftId, failedRole, error },
  };
}

function failedRoleError(role: string): string {
  return `${role} failed: every provider in its chain failed`;
}

export function draftNotFound(id: string): AppError {
  return new AppError('DRAFT_NOT_FOUND', `Draft ${id} does not exist.`);
}
