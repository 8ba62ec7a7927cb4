import { sql } from 'drizzle-orm';
import { type Database, queryOne } from '../db/database.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { latestEvents } from '../sessions/event-store.js';
import type { SessionEvent, SessionRecord } from '../sessions/session-model.js';
import { isSessionGone } from '../sessions/session-rules.js';
import type { SessionService } from '../sessions/session-service.js';
import type { RoleRunner } from './role-runner.js';

export const REPLY_QUEUE = 'agw-agent-reply';
const runtimeRoles = new Set(['author', 'critic', 'maker', 'judge']);

export interface ReplyJob {
  sessionId: string;
  seq: number;
}

/** Whether an event asks a runtime role (its `toRole`) for a reply: its type is one of the reply types. */
export function asksForReply(replyTypes: readonly string[]) {
  const types = new Set(replyTypes);
  return (event: { type: string; toRole?: string | null }): boolean =>
    Boolean(event.toRole && runtimeRoles.has(event.toRole) && types.has(event.type));
}

/** Decides, inside the append transaction, whether an event asks a runtime role for a reply, and enqueues it. */
export function replyAppendHook(jobs: JobQueue, replyTypes: readonly string[]) {
  const wants = asksForReply(replyTypes);
  return async (
    tx: Parameters<JobQueue['sendInTransaction']>[0],
    event: SessionEvent,
    _session: SessionRecord,
  ) => {
    if (!wants(event)) return;
    await jobs.sendInTransaction(tx, REPLY_QUEUE, {
      sessionId: event.sessionId,
      seq: event.seq,
    } satisfies ReplyJob);
  };
}

function describeEvent(event: SessionEvent): string {
  const payload = event.payload as Record<string, unknown> | null;
  const text =
    typeof payload?.text === 'string'
      ? payload.text
      : typeof payload?.output === 'string'
        ? payload.output
        : JSON.stringify(event.payload);
  return `[${event.seq}] ${event.fromRole}${event.toRole ? ` → ${event.toRole}` : ''} (${event.type}): ${text.slice(0, 2000)}`;
}

/**
 * Answers one message: the addressed role runs with the recent timeline as context and `agent_reply` is appended.
 * The (session, seq) reply marker commits with the event, so a retried job never replies twice.
 */
export class ReplyWorker {
  constructor(
    private readonly deps: {
      database: Database;
      sessions: SessionService;
      runtime: RoleRunner;
      contextEvents: number;
    },
  ) {}

  async handle(job: ReplyJob): Promise<void> {
    const { database, sessions } = this.deps;
    const already = await queryOne<{ reply_seq: number }>(
      database.orm,
      sql`select reply_seq from agent_replies where session_id = ${job.sessionId} and in_reply_to_seq = ${job.seq}`,
    );
    if (already) return;
    const recent = (await latestEvents(database.orm, job.sessionId, this.deps.contextEvents)).filter(
      (e) => e.seq <= job.seq,
    );
    const trigger = recent.find((e) => e.seq === job.seq);
    if (!trigger?.toRole) return; // compacted away or not addressed: nothing to answer
    const role = trigger.toRole as 'author' | 'critic' | 'maker' | 'judge';
    const prompt = `You are the ${role} in a team conversation. Reply to the last message, using the timeline for context.

Timeline (oldest first):
${recent.map(describeEvent).join('\n')}

Reply to [${trigger.seq}] from ${trigger.fromRole}.`;
    const result = await this.deps.runtime.runRole({ role, prompt });
    try {
      await database.transaction(async (tx) => {
        const marker = await queryOne<{ reply_seq: number }>(
          tx,
          sql`select reply_seq from agent_replies where session_id = ${job.sessionId} and in_reply_to_seq = ${job.seq} for update`,
        );
        if (marker) return;
        const event = await sessions.append(
          job.sessionId,
          {
            fromRole: role,
            toRole: trigger.fromRole,
            type: 'agent_reply',
            payload: {
              inReplyToSeq: trigger.seq,
              text: result.output,
              failed: result.failed,
              selectedProvider: result.selectedProvider,
              selectedModel: result.selectedModel,
              attempts: result.attempts,
              usage: result.usage,
              latencyMs: result.latencyMs,
            },
          },
          tx,
        );
        await tx.execute(
          sql`insert into agent_replies (session_id, in_reply_to_seq, reply_seq) values (${job.sessionId}, ${job.seq}, ${event.seq})
              on conflict do nothing`,
        );
      });
    } catch (error) {
      // A session closed before the answer arrived keeps its timeline as it was; there is nothing to retry.
      if (isSessionGone(error)) return;
      throw error;
    }
  }
}
