import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { SessionEventBus } from '../sessions/session-event-bus.js';
import type { SessionService } from '../sessions/session-service.js';
import { DRAFT_CYCLE_QUEUE, draftNotFound } from './draft-cycle.js';
import { getDraft } from './draft-store.js';
import { getRun, insertRun, listSteps } from './run-store.js';

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
}

/**
 * Starts draft cycles: the run row, the session, `draft_cycle_started` and the job commit in one transaction, so a
 * started run is never lost and never runs without its record. Sync callers then wait for the run to finish.
 */
export class Orchestrator {
  constructor(private readonly deps: OrchestratorDeps) {}

  async start(input: OrchestrateInput) {
    if (!this.deps.enabled) {
      throw new AppError(
        'AGENT_ORCHESTRATION_DISABLED',
        'Orchestration is disabled (AGENT_ORCHESTRATION_ENABLED=false).',
      );
    }
    const { database, sessions, jobs } = this.deps;
    const draft = await getDraft(database.orm, input.draftId);
    if (!draft) throw draftNotFound(input.draftId);
    const runId = randomUUID();
    const sessionId = await database.transaction(async (tx) => {
      const { session } = await sessions.create(
        {
          channel: input.channel,
          externalSessionId: input.externalSessionId ?? null,
          draftId: draft.id,
          roles: ['author', 'critic', 'maker', 'judge'],
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
          fromRole: 'author',
          toRole: 'critic',
          type: 'draft_cycle_started',
          payload: {
            runId,
            draftId: draft.id,
            revision: draft.revision,
            promptSeed: input.promptSeed ?? null,
          },
        },
        tx,
      );
      await jobs.sendInTransaction(tx, DRAFT_CYCLE_QUEUE, { runId });
      return session.id;
    });
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
