import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChannelConnector } from '../../config/ingest-settings.js';
import { AppError } from '../../errors/app-error.js';
import type { IngestRequestInput } from '../ingest-input.js';

/** Slack's replay window for signed requests. */
export const SLACK_MAX_AGE_SEC = 300;

/**
 * Slack v0 signing: `v0=` + hex HMAC-SHA256(signing secret, `v0:<X-Slack-Request-Timestamp>:<raw body>`), with the
 * timestamp no more than five minutes away.
 */
export function verifySlack(
  connector: ChannelConnector,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: Buffer,
  nowSec: number,
): void {
  const ts = timestamp?.trim() ?? '';
  const presented = /^v0=([0-9a-f]{64})$/.exec(signature?.trim() ?? '');
  let valid = false;
  if (presented && /^\d{1,12}$/.test(ts)) {
    const expected = createHmac('sha256', connector.secret ?? '')
      .update(`v0:${ts}:`)
      .update(rawBody)
      .digest();
    valid = timingSafeEqual(expected, Buffer.from(presented[1]!, 'hex'));
  }
  if (!valid)
    throw new AppError(
      'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID',
      'X-Slack-Signature does not match the signing secret.',
    );
  if (Math.abs(nowSec - Number(ts)) > SLACK_MAX_AGE_SEC)
    throw new AppError(
      'AGENT_GATEWAY_INGEST_SIGNATURE_EXPIRED',
      'X-Slack-Request-Timestamp is more than five minutes old.',
    );
}

export type SlackMapping =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'ingest'; input: IngestRequestInput };

/**
 * Events API envelopes: `url_verification` is answered with its challenge; `event_callback` messages and mentions
 * from people become pipeline input deduplicated on `event_id` (so Slack's retries are replays). Bot messages —
 * our own replies among them — are ignored so the gateway never answers itself.
 */
export function mapSlackEnvelope(connectorId: string, body: Record<string, unknown>): SlackMapping {
  if (body.type === 'url_verification') {
    if (typeof body.challenge !== 'string' || body.challenge.length > 1000)
      throw new AppError('AGENT_GATEWAY_INGEST_INVALID_INPUT', 'challenge: must be a string', {
        details: { fields: ['challenge'] },
      });
    return { kind: 'challenge', challenge: body.challenge };
  }
  if (body.type !== 'event_callback') return { kind: 'ignore', reason: `envelope type ${String(body.type)}` };
  const event = body.event as Record<string, unknown> | undefined;
  if (typeof body.event_id !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(body.event_id) || !event)
    throw new AppError(
      'AGENT_GATEWAY_INGEST_INVALID_INPUT',
      'event_id: an event_callback needs event_id and event',
      {
        details: { fields: ['event_id'] },
      },
    );
  if (event.type !== 'message' && event.type !== 'app_mention')
    return { kind: 'ignore', reason: `event type ${String(event.type)}` };
  if (
    event.bot_id !== undefined ||
    (typeof event.subtype === 'string' && event.subtype !== 'thread_broadcast')
  )
    return { kind: 'ignore', reason: 'bot message or message subtype' };
  // `token` is the app's (legacy) verification token, a credential: it is not part of the message.
  const { token: _credential, ...envelope } = body;
  return {
    kind: 'ingest',
    input: {
      connectorId,
      eventId: body.event_id,
      fields: { payload: typeof event.text === 'string' ? { ...envelope, text: event.text } : envelope },
    },
  };
}
