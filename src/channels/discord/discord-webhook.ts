import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { ChannelConnector } from '../../config/ingest-settings.js';
import { AppError } from '../../errors/app-error.js';
import type { IngestRequestInput } from '../ingest-input.js';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; Discord hands out the raw 32-byte key as hex. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map<string, KeyObject>();

function publicKey(hex: string): KeyObject {
  let key = keys.get(hex);
  if (!key) {
    key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    keys.set(hex, key);
  }
  return key;
}

/** Discord interactions: Ed25519 over `X-Signature-Timestamp + raw body` with the application's public key. */
export function verifyDiscord(
  connector: ChannelConnector,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: Buffer,
): void {
  const sig = signature?.trim() ?? '';
  let valid = false;
  if (/^[0-9a-f]{128}$/i.test(sig) && timestamp) {
    try {
      valid = verify(
        null,
        Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
        publicKey(connector.publicKey ?? ''),
        Buffer.from(sig, 'hex'),
      );
    } catch {
      valid = false;
    }
  }
  if (!valid)
    throw new AppError(
      'AGENT_GATEWAY_INGEST_SIGNATURE_INVALID',
      'X-Signature-Ed25519 does not verify with the application public key.',
    );
}

export const DISCORD_PING = 1;
export const DISCORD_APPLICATION_COMMAND = 2;
export const DISCORD_MESSAGE_COMPONENT = 3;

function commandText(data: Record<string, unknown> | undefined): string | undefined {
  if (!data) return undefined;
  const options = Array.isArray(data.options) ? (data.options as { value?: unknown }[]) : [];
  const values = options.map((o) => o.value).filter((v) => typeof v === 'string' || typeof v === 'number');
  if (values.length > 0) return values.join(' ');
  if (typeof data.custom_id === 'string') return data.custom_id;
  return typeof data.name === 'string' ? `/${data.name}` : undefined;
}

/** A command or component interaction → pipeline input, deduplicated on the interaction id. */
export function discordInteractionToInput(
  connectorId: string,
  interaction: Record<string, unknown>,
): IngestRequestInput {
  if (typeof interaction.id !== 'string' || !/^\d{1,30}$/.test(interaction.id))
    throw new AppError('AGENT_GATEWAY_INGEST_INVALID_INPUT', 'id: an interaction needs its snowflake id', {
      details: { fields: ['id'] },
    });
  const text = commandText(interaction.data as Record<string, unknown> | undefined);
  // `token` answers this interaction for 15 minutes (a credential); replies go out with the bot token instead.
  const { token: _credential, ...stored } = interaction;
  return {
    connectorId,
    eventId: `interaction-${interaction.id}`,
    fields: { payload: text === undefined ? stored : { ...stored, text } },
  };
}
