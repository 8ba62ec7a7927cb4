import { createHash } from 'node:crypto';
import type { ChannelConnector } from '../config/ingest-settings.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { getEvent } from '../sessions/event-store.js';
import type { SessionEvent, SessionRecord } from '../sessions/session-model.js';
import { isSessionGone, SYSTEM_ROLE } from '../sessions/session-rules.js';
import type { SessionService } from '../sessions/session-service.js';
import { createDiscordMessage } from './discord/discord-client.js';
import { findDelivery, lockDelivery, recordDelivery } from './outbox-store.js';
import type { DeliveryOutcome } from './platform-http.js';
import { positiveId, type ReplyPlacement, replyPlacement } from './reply-placement.js';
import { postSlackMessage } from './slack/slack-client.js';
import { sendTelegramMessage } from './telegram/telegram-client.js';

export const OUTBOX_QUEUE = 'agw-channel-outbox';

export interface OutboxJob {
  sessionId: string;
  replySeq: number;
  attempt: number;
}

/** Enqueues delivery of an `agent_reply` inside the append transaction when its session's connector can reply. */
export function outboxAppendHook(jobs: JobQueue, connectors: Readonly<Record<string, ChannelConnector>>) {
  return async (tx: Executor, event: SessionEvent, session: SessionRecord) => {
    if (event.type !== 'agent_reply' || !session.connectorId) return;
    if (!connectors[session.connectorId]?.botToken) return;
    await jobs.sendInTransaction(tx, OUTBOX_QUEUE, {
      sessionId: event.sessionId,
      replySeq: event.seq,
      attempt: 1,
    } satisfies OutboxJob);
  };
}

/** The platform chat / channel id, recovered from the session's external id (`telegram_chat:<id>` …). */
export function replyTarget(
  platform: ChannelConnector['platform'],
  externalSessionId: string | null,
): string | null {
  if (!externalSessionId) return null;
  const prefix = { telegram: 'telegram_chat:', slack: 'slack_channel:', discord: 'discord_channel:' }[
    platform
  ];
  if (!externalSessionId.startsWith(prefix)) return null;
  const id = externalSessionId.slice(prefix.length);
  // Slack ids are upper-case alphanumerics; the session id keeps them lower-cased.
  return platform === 'slack' ? id.toUpperCase() : id;
}

/**
 * The idempotency key of one reply's delivery, the same on every attempt: Discord's `nonce` (at most 25 characters)
 * from the session and the reply's seq.
 */
export function deliveryNonce(sessionId: string, replySeq: number): string {
  return createHash('sha256').update(`${sessionId}:${replySeq}`).digest('base64url').slice(0, 25);
}

/**
 * Delivers replies to their platform. Each job is one attempt; a failure that may pass (429, 5xx, network) is
 * re-enqueued as the next attempt after the platform's `retry_after` or an exponential backoff, until
 * `maxAttempts`; the outcome is appended as `reply_delivered` or `reply_delivery_failed` together with a
 * (session, reply) marker, so a re-delivered job never reports twice.
 */
export class ReplyOutbox {
  constructor(
    private readonly deps: {
      database: Database;
      sessions: SessionService;
      jobs: JobQueue;
      connectors: Readonly<Record<string, ChannelConnector>>;
      maxAttempts: number;
      timeoutMs?: number;
      logger?: { warn(obj: object, msg: string): void };
    },
  ) {}

  async handle(job: OutboxJob): Promise<void> {
    const { database } = this.deps;
    if (await findDelivery(database.orm, job.sessionId, job.replySeq)) return;
    const [session, reply] = await Promise.all([
      this.deps.sessions.get(job.sessionId).catch(() => undefined),
      getEvent(database.orm, job.sessionId, job.replySeq),
    ]);
    if (!session || !reply || !session.connectorId) return;
    const connector = this.deps.connectors[session.connectorId];
    if (!connector?.botToken) return;
    const text = (reply.payload as { text?: unknown } | null)?.text;
    const target = replyTarget(connector.platform, session.externalSessionId);
    let outcome: DeliveryOutcome;
    if (typeof text !== 'string' || text.trim() === '') {
      outcome = { ok: false, retryable: false, status: null, error: 'the reply has no text to deliver' };
    } else if (!target) {
      outcome = { ok: false, retryable: false, status: null, error: 'the session has no platform chat id' };
    } else {
      // The message answered (`inReplyToSeq`, live or archived) decides the thread, topic or quote.
      const inReplyTo = positiveId((reply.payload as { inReplyToSeq?: unknown } | null)?.inReplyToSeq);
      const trigger =
        inReplyTo === undefined ? undefined : await getEvent(database.orm, job.sessionId, inReplyTo);
      outcome = await this.send(
        connector,
        target,
        text,
        replyPlacement(connector.platform, trigger?.payload),
        deliveryNonce(job.sessionId, job.replySeq),
      );
    }
    if (!outcome.ok && outcome.retryable && job.attempt < this.deps.maxAttempts) {
      const waitSec = Math.min(300, Math.max(1, Math.ceil(outcome.retryAfterSec ?? 2 ** job.attempt)));
      this.deps.logger?.warn(
        {
          sessionId: job.sessionId,
          replySeq: job.replySeq,
          attempt: job.attempt,
          status: outcome.status,
          waitSec,
        },
        'reply delivery failed; retrying',
      );
      await this.deps.jobs.send(OUTBOX_QUEUE, { ...job, attempt: job.attempt + 1 } satisfies OutboxJob, {
        singletonKey: `${job.sessionId}:${job.replySeq}:${job.attempt + 1}`,
        startAfterSeconds: waitSec,
      });
      return;
    }
    await this.record(job, session.connectorId, connector, outcome);
  }

  private send(
    connector: ChannelConnector,
    target: string,
    text: string,
    placement: ReplyPlacement,
    nonce: string,
  ): Promise<DeliveryOutcome> {
    const timeoutMs = this.deps.timeoutMs ?? 10_000;
    switch (connector.platform) {
      case 'telegram':
        return sendTelegramMessage(connector, target, text, timeoutMs, placement);
      case 'slack':
        return postSlackMessage(connector, target, text, timeoutMs, placement);
      case 'discord':
        return createDiscordMessage(connector, target, text, timeoutMs, nonce);
    }
  }

  private async record(
    job: OutboxJob,
    connectorId: string,
    connector: ChannelConnector,
    outcome: DeliveryOutcome,
  ): Promise<void> {
    try {
      await this.deps.database.transaction(async (tx) => {
        if (await lockDelivery(tx, job.sessionId, job.replySeq)) return;
        const payload = outcome.ok
          ? {
              replySeq: job.replySeq,
              connectorId,
              platform: connector.platform,
              messageId: outcome.messageId,
              attempts: job.attempt,
            }
          : {
              replySeq: job.replySeq,
              connectorId,
              platform: connector.platform,
              status: outcome.status,
              error: outcome.error,
              attempts: job.attempt,
            };
        const event = await this.deps.sessions.append(
          job.sessionId,
          { fromRole: SYSTEM_ROLE, type: outcome.ok ? 'reply_delivered' : 'reply_delivery_failed', payload },
          tx,
        );
        await recordDelivery(tx, {
          sessionId: job.sessionId,
          replySeq: job.replySeq,
          connectorId,
          platform: connector.platform,
          status: outcome.ok ? 'delivered' : 'failed',
          attempts: job.attempt,
          eventSeq: event.seq,
        });
      });
    } catch (error) {
      // A session closed meanwhile keeps its timeline; the message itself was (or was not) delivered regardless.
      if (isSessionGone(error)) return;
      throw error;
    }
  }
}
