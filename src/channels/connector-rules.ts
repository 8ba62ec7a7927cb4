import {
  type ConnectorPolicy,
  type ConnectorProfile,
  type IngestAdapter,
  profileFields,
  type RiskLevel,
} from '../config/ingest-settings.js';
import { AppError } from '../errors/app-error.js';
import type { IngestFields } from './ingest-input.js';

/** The defaults every connector starts from; a policy can only lower them. */
export interface IngestLimits {
  rateLimitMax: number;
  rateLimitWindowSec: number;
  maxPayloadBytes: number;
  maxPayloadKeys: number;
  maxMetadataKeys: number;
  requireConnectorSecret: boolean;
}

export interface EffectivePolicy extends IngestLimits {
  riskLevel: RiskLevel;
}

/** Applies a connector policy to the defaults: numbers take the minimum, `restricted` requires a connector secret. */
export function effectivePolicy(
  defaults: IngestLimits,
  policy: ConnectorPolicy | undefined,
): EffectivePolicy {
  const min = (base: number, value: number | undefined) =>
    value === undefined ? base : Math.min(base, value);
  const riskLevel = policy?.riskLevel ?? 'standard';
  return {
    riskLevel,
    rateLimitWindowSec: defaults.rateLimitWindowSec,
    rateLimitMax: min(defaults.rateLimitMax, policy?.rateLimitMax),
    maxPayloadBytes: min(defaults.maxPayloadBytes, policy?.maxPayloadBytes),
    maxPayloadKeys: min(defaults.maxPayloadKeys, policy?.maxPayloadKeys),
    maxMetadataKeys: min(defaults.maxMetadataKeys, policy?.maxMetadataKeys),
    requireConnectorSecret:
      defaults.requireConnectorSecret ||
      policy?.requireConnectorSecret === true ||
      riskLevel === 'restricted',
  };
}

/** Fields after the profile filled the gaps: everything the event needs. */
export interface ResolvedFields extends IngestFields {
  adapter: IngestAdapter;
  channel: string;
  fromRole: string;
  type: string;
}

/**
 * Profile defaults fill omitted fields; explicit values win. In strict mode an explicit value that differs from the
 * profile is a 409 listing every conflicting field.
 */
export function applyProfile(
  fields: IngestFields,
  profile: ConnectorProfile | undefined,
  strict: boolean,
  fallbackChannel?: string,
): ResolvedFields {
  if (profile && strict) {
    const conflicts = profileFields
      .filter((f) => profile[f] !== undefined && fields[f] !== undefined && fields[f] !== profile[f])
      .map((f) => ({ field: f, profile: profile[f], received: fields[f] }));
    if (conflicts.length > 0) {
      throw new AppError(
        'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILE_CONFLICT',
        `Fields conflict with the connector profile (strict mode): ${conflicts
          .map((c) => `${c.field} "${c.received}" ≠ "${c.profile}"`)
          .join(', ')}.`,
        { details: { fields: conflicts.map((c) => c.field), conflicts } },
      );
    }
  }
  const channel = fields.channel ?? profile?.channel ?? fallbackChannel;
  if (!channel) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_INVALID_INPUT',
      'channel: is required (body field or connector profile)',
      {
        details: { fields: ['channel'] },
      },
    );
  }
  const resolved: ResolvedFields = {
    ...fields,
    adapter: fields.adapter ?? profile?.adapter ?? 'external_webhook',
    channel,
    fromRole: fields.fromRole ?? profile?.fromRole ?? 'observer',
    type: fields.type ?? profile?.type ?? 'observer_message',
  };
  const toRole = fields.toRole ?? profile?.toRole;
  if (toRole !== undefined) resolved.toRole = toRole;
  return resolved;
}

function budgetError(field: string, message: string, limit: number, actual: number): AppError {
  return new AppError('AGENT_GATEWAY_INGEST_POLICY_REJECTED', `${field}: ${message}`, {
    details: { fields: [field], limit, actual },
  });
}

/** Payload and metadata budgets of the connector policy (keys and bytes). */
export function checkBudgets(fields: IngestFields, policy: EffectivePolicy): void {
  const payload = fields.payload;
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    const keys = Object.keys(payload).length;
    if (keys > policy.maxPayloadKeys)
      throw budgetError(
        'payload',
        `has ${keys} keys; the connector policy allows ${policy.maxPayloadKeys}`,
        policy.maxPayloadKeys,
        keys,
      );
  }
  if (payload !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(payload), 'utf8');
    if (bytes > policy.maxPayloadBytes)
      throw budgetError(
        'payload',
        `is ${bytes} bytes; the connector policy allows ${policy.maxPayloadBytes}`,
        policy.maxPayloadBytes,
        bytes,
      );
  }
  if (fields.metadata) {
    const keys = Object.keys(fields.metadata).length;
    if (keys > policy.maxMetadataKeys)
      throw budgetError(
        'metadata',
        `has ${keys} keys; the connector policy allows ${policy.maxMetadataKeys}`,
        policy.maxMetadataKeys,
        keys,
      );
    const bytes = Buffer.byteLength(JSON.stringify(fields.metadata), 'utf8');
    if (bytes > 16384)
      throw budgetError('metadata', `is ${bytes} bytes; at most 16384 are kept on a session`, 16384, bytes);
  }
}
