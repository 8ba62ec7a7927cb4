import type { ChannelConnector, Platform } from '../config/ingest-settings.js';
import { AppError } from '../errors/app-error.js';
import { DISCORD_PING, discordInteractionToInput, verifyDiscord } from './discord/discord-webhook.js';
import { parseBodyObject } from './ingest-input.js';
import type { IngestPipeline, IngestResult } from './ingest-pipeline.js';
import { mapSlackEnvelope, verifySlack } from './slack/slack-webhook.js';
import { mapTelegramUpdate, verifyTelegram } from './telegram/telegram-webhook.js';

export interface WebhookRequest {
  connectorId: string;
  rawBody: Buffer | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export interface WebhookReply {
  status: number;
  body: unknown;
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function summary(result: IngestResult) {
  return {
    ok: true,
    applied: result.applied,
    deduplicated: result.deduplicated,
    connectorId: result.connectorId,
    eventId: result.eventId,
    sessionId: result.sessionId,
    externalSessionId: result.externalSessionId,
  };
}

/**
 * Native platform webhooks: verify the platform's own proof on the raw bytes, answer its handshakes, and translate
 * everything else into the ingest pipeline (same profile, policy, rate limit, dedup and session fallback).
 */
export class ChannelWebhooks {
  constructor(
    private readonly deps: {
      pipeline: IngestPipeline;
      connectors: Readonly<Record<string, ChannelConnector>>;
      now?: () => number;
    },
  ) {}

  async handle(platform: Platform, request: WebhookRequest): Promise<WebhookReply> {
    const connectorId = request.connectorId.trim().toLowerCase();
    const { pipeline } = this.deps;
    let authenticated = false;
    try {
      const connector = this.deps.connectors[connectorId];
      if (!connector || connector.platform !== platform) {
        throw new AppError(
          'AGENT_GATEWAY_INGEST_CONNECTOR_NOT_FOUND',
          `No ${platform} connector "${connectorId}" is configured (AGENT_GATEWAY_CHANNEL_CONNECTORS).`,
        );
      }
      pipeline.checkAllowed(connectorId);
      const rawBody = request.rawBody ?? Buffer.alloc(0);
      const nowSec = Math.floor((this.deps.now ?? Date.now)() / 1000);
      if (platform === 'telegram') {
        verifyTelegram(connector, header(request.headers, 'x-telegram-bot-api-secret-token'));
        authenticated = true;
        const mapped = mapTelegramUpdate(connectorId, parseBodyObject(rawBody));
        if (mapped.kind === 'ignore') return { status: 200, body: { ok: true, ignored: mapped.reason } };
        const result = await pipeline.accept(mapped.input, pipeline.policyFor(connectorId), { platform });
        return { status: 200, body: summary(result) };
      }
      if (platform === 'slack') {
        verifySlack(
          connector,
          header(request.headers, 'x-slack-signature'),
          header(request.headers, 'x-slack-request-timestamp'),
          rawBody,
          nowSec,
        );
        authenticated = true;
        const mapped = mapSlackEnvelope(connectorId, parseBodyObject(rawBody));
        if (mapped.kind === 'challenge') return { status: 200, body: { challenge: mapped.challenge } };
        if (mapped.kind === 'ignore') return { status: 200, body: { ok: true, ignored: mapped.reason } };
        const result = await pipeline.accept(mapped.input, pipeline.policyFor(connectorId), { platform });
        return { status: 200, body: summary(result) };
      }
      verifyDiscord(
        connector,
        header(request.headers, 'x-signature-ed25519'),
        header(request.headers, 'x-signature-timestamp'),
        rawBody,
      );
      authenticated = true;
      const interaction = parseBodyObject(rawBody);
      if (interaction.type === DISCORD_PING) return { status: 200, body: { type: 1 } };
      if (interaction.type !== 2 && interaction.type !== 3 && interaction.type !== 5) {
        throw new AppError('AGENT_GATEWAY_INGEST_INVALID_INPUT', 'type: unsupported interaction type', {
          details: { fields: ['type'] },
        });
      }
      const result = await pipeline.accept(
        discordInteractionToInput(connectorId, interaction),
        pipeline.policyFor(connectorId),
        { platform },
      );
      // CHANNEL_MESSAGE_WITH_SOURCE, visible only to the sender: the answer arrives as a channel message.
      return {
        status: 200,
        body: {
          type: 4,
          data: {
            content: result.deduplicated
              ? 'Already received.'
              : 'Received; the answer will follow in this channel.',
            flags: 64,
          },
        },
      };
    } catch (error) {
      pipeline.countRejection(connectorId, authenticated, error);
      throw error;
    }
  }
}
