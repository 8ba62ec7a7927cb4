import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { GroupCommit } from '../db/group-commit.js';
import { AppError } from '../errors/app-error.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { SessionEventBus } from '../sessions/session-event-bus.js';
import { sessionIdFor } from '../sessions/session-rules.js';
import type { SessionService } from '../sessions/session-service.js';
import { DRAFT_CYCLE_QUEUE, draftNotFound, type EarlyStep } from './draft-cycle.js';
import { type Draft, getDrafts } from './draft-store.js';
import type { PromptContext } from './prompts/prompt-context.js';
import { RunStartBatcher } from './run-start-batcher.js';
import { type ClaimedRun, getRun, insertRun, listSteps, runCommitEvent } from './run-store.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface OrchestrateInput {
  draftId: string;
  channel: string;
  externalSessionId?: string | null;
  promptSeed?: string | null;
  metadata?: Record<string, unknown>;
  async?: boolean;
  waitMs: number;
}

export interface OrchestratorDeps {
  database: Database;
  sessions: SessionService;
  jobs: JobQueue;
  bus: SessionEventBus;
  enabled: boolean;
  /** Executes runs in this process right after their start commits (a job stays behind as the crash backstop). */
  local?: LocalRuns;
  /** Called once per run whose start committed (metrics). */
  onStarted?: () => void;
}

/**
 * Runs this process executes itself, bounded. A run started here with a free slot runs at once, with no queue
 * round trip; its job is enqueued one lease in the future and resumes the run on any replica only if this one
 * dies (and is deleted when the run ends). Without a free slot the job is immediate and any replica's worker takes it.
 */
export class LocalRuns {
  private active = 0;

  constructor(
    private readonly options: {
      limit: number;
      leaseSeconds: number;
      /**
       * Executes a run; `claimed` when the start already claimed it for this process, `early` when its first
       * role's call was begun before the start committed.
       */
      execute(runId: string, claimed?: ClaimedRun, early?: EarlyStep): Promise<void>;
      /** Begins a run's first role call from the draft as read before the start (`DraftCycle.beginFirstStep`). */
      begin(ctx: PromptContext): EarlyStep;
      jobs: JobQueue;
      onError(runId: string, error: unknown): void;
    },
  ) {}

  get leaseSeconds(): number {
    return this.options.leaseSeconds;
  }

  tryReserve(): boolean {
    if (this.active >= this.options.limit) return false;
    this.active += 1;
    return true;
  }

  release(): void {
    this.active -= 1;
  }

  begin(ctx: PromptContext): EarlyStep {
    return this.options.begin(ctx);
  }

  /** Runs a reserved run; its backstop job is deleted once it ends (a failure leaves the job to resume it). */
  launch(runId: string, jobId: string | null, claimed?: ClaimedRun, early?: EarlyStep): void {
    void this.options
      .execute(runId, claimed, early)
      .then(
        () => {
          if (jobId) this.options.jobs.deleteSoon(DRAFT_CYCLE_QUEUE, jobId);
        },
        (error) => this.options.onError(runId, error),
      )
      .finally(() => this.release());
  }
}

/**
 * Starts draft cycles: the run row, the session, `draft_cycle_started` and the job commit in one transaction, so a
 * started run is never lost and never runs without its record (starts in fresh sessions share that transaction
 * with the other starts in flight: `RunStartBatcher`). Sync callers then wait for the run to finish.
 */
export class Orchestrator {
  private readonly starts: RunStartBatcher;
  /** Drafts read for starts in flight: one query for all the ids asked in the same turn of the event loop. */
  private readonly drafts: GroupCommit<string, Draft | null>;

  constructor(private readonly deps: OrchestratorDeps) {
    this.starts = new RunStartBatcher({ database: deps.database, jobs: deps.jobs });
    this.drafts = new GroupCommit({
      maxInFlight: 4,
      maxBatch: 250,
      commit: async (ids) => {
        const found = await getDrafts(deps.database.orm, [...new Set(ids)]);
        return ids.map((id) => ({ ok: true as const, value: found.get(id) ?? null }));
      },
    });
  }

  async start(input: OrchestrateInput) {
    if (!this.deps.enabled) {
      throw new AppError(
        'AGENT_ORCHESTRATION_DISABLED',
        'Orchestration is disabled (AGENT_ORCHESTRATION_ENABLED=false).',
      );
    }
    const { database, sessions, jobs } = this.deps;
    if (!uuidPattern.test(input.draftId)) throw draftNotFound(input.draftId);
    const runId = randomUUID();
    const roles = ['author', 'critic', 'maker', 'judge'];
    const started = { fromRole: 'author', toRole: 'critic', type: 'draft_cycle_started' };
    // A cycle in a session of its own (no externalSessionId) starts in one statement; a reused session, or an
    // append hook that must see the start event, takes the general path.
    const fresh = !input.externalSessionId && !sessions.appendHookWants(started);
    const local = this.deps.local?.tryReserve() ? this.deps.local : undefined;
    let jobId: string | null = null;
    let claimed: ClaimedRun | undefined;
    let early: EarlyStep | undefined;
    let sessionId: string;
    try {
      // The draft is read first, except for a fresh start this process will not execute (its start statement
      // checks the draft). A run this process executes begins its first role's call now, from the draft as read,
      // while its start commits (the run uses that answer only if the committed start leads to the same prompt).
      const draft = !fresh || local ? await this.drafts.submit(input.draftId) : undefined;
      if (draft === null) throw draftNotFound(input.draftId);
      if (local && draft)
        early = local.begin({
          title: draft.title,
          body: draft.body,
          context: draft.context,
          promptSeed: input.promptSeed ?? null,
        });
      if (fresh) {
        // A fresh session: group-committed with the other starts in flight (one statement + one job insert).
        sessionId = sessionIdFor(input.channel, null);
        const outcome = await this.starts.start({
          run: {
            runId,
            sessionId,
            draftId: input.draftId,
            channel: input.channel,
            promptSeed: input.promptSeed ?? null,
            metadata: input.metadata ?? {},
            roles,
            event: runCommitEvent({
              ...started,
              payload: { runId, draftId: input.draftId, promptSeed: input.promptSeed ?? null },
            }),
            local: local !== undefined,
          },
          ...(local ? { startAfterSeconds: local.leaseSeconds } : {}),
        });
        if (!outcome.created) throw draftNotFound(input.draftId);
        jobId = outcome.jobId;
        claimed = outcome.claimed;
      } else {
        if (!draft) throw draftNotFound(input.draftId);
        sessionId = await database.transaction(async (tx) => {
          const { session } = await sessions.create(
            {
              channel: input.channel,
              externalSessionId: input.externalSessionId ?? null,
              draftId: draft.id,
              roles,
              metadata: input.metadata ?? {},
            },
            tx,
          );
          if (session.status === 'closed') {
            throw new AppError(
              'AGENT_GATEWAY_SESSION_CLOSED',
              `Session ${session.id} is closed; use another externalSessionId.`,
            );
          }
          await insertRun(tx, {
            id: runId,
            sessionId: session.id,
            draftId: draft.id,
            channel: input.channel,
            externalSessionId: input.externalSessionId ?? null,
            promptSeed: input.promptSeed ?? null,
            metadata: input.metadata ?? {},
          });
          await sessions.append(
            session.id,
            {
              ...started,
              payload: {
                runId,
                draftId: draft.id,
                revision: draft.revision,
                promptSeed: input.promptSeed ?? null,
              },
            },
            tx,
          );
          jobId = await jobs.sendInTransaction(
            tx,
            DRAFT_CYCLE_QUEUE,
            { runId },
            local ? { startAfterSeconds: local.leaseSeconds } : {},
          );
          return session.id;
        });
      }
    } catch (error) {
      local?.release();
      throw error;
    }
    this.deps.onStarted?.();
    local?.launch(runId, jobId, claimed, early);
    if (input.async) return { kind: 'accepted' as const, sessionId, runId, status: 'queued' };
    const finished = await this.deps.bus.waitFor(
      sessionId,
      async () => {
        const run = await getRun(database.orm, runId);
        return run?.status === 'completed' || run?.status === 'failed';
      },
      input.waitMs,
    );
    if (!finished) {
      const run = await getRun(database.orm, runId);
      return { kind: 'accepted' as const, sessionId, runId, status: run?.status ?? 'queued' };
    }
    return { kind: 'finished' as const, ...(await this.describe(runId)) };
  }

  /** The run as the sync response shows it: steps with prompts and results, the verdict. */
  async describe(runId: string) {
    const run = await getRun(this.deps.database.orm, runId);
    if (!run) throw new AppError('ORCHESTRATION_RUN_NOT_FOUND', `Run ${runId} does not exist.`);
    const steps = await listSteps(this.deps.database.orm, runId);
    return {
      sessionId: run.sessionId,
      runId: run.id,
      channel: run.channel,
      externalSessionId: run.externalSessionId,
      draftId: run.draftId,
      completed: run.status === 'completed',
      status: run.status,
      error: run.error,
      steps: steps.map((s) => ({ role: s.role, prompt: s.prompt, result: s.result })),
      verdict: run.verdict,
    };
  }
}
