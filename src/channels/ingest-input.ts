import { connectorIdPattern, type IngestAdapter, ingestAdapters } from '../config/ingest-settings.js';
import { AppError } from '../errors/app-error.js';
import { parseJsonBody } from '../http/json-text.js';
import { isReservedEventType, patterns, SYSTEM_ROLE } from '../sessions/session-rules.js';

/** The fields of one ingest request after validation; omitted ones stay undefined for the profile to fill. */
export interface IngestFields {
  adapter?: IngestAdapter;
  channel?: string;
  externalSessionId?: string;
  draftId?: string;
  roles?: string[];
  metadata?: Record<string, unknown>;
  fromRole?: string;
  toRole?: string;
  type?: string;
  payload?: unknown;
}

export interface IngestRequestInput {
  connectorId: string;
  eventId: string;
  fields: IngestFields;
}

const bodyKeys = new Set([
  'connectorId',
  'eventId',
  'adapter',
  'channel',
  'externalSessionId',
  'draftId',
  'roles',
  'metadata',
  'fromRole',
  'toRole',
  'type',
  'payload',
]);

export const eventIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function invalid(field: string, message: string): AppError {
  return new AppError('AGENT_GATEWAY_INGEST_INVALID_INPUT', `${field}: ${message}`, {
    details: { fields: [field] },
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An optional trimmed, lowercased identifier. */
function identifier(body: Record<string, unknown>, field: string, pattern: RegExp): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  const normalised = value.trim().toLowerCase();
  if (!pattern.test(normalised)) throw invalid(field, `must match ${pattern.source}`);
  return normalised;
}

/** The connector id from the body or `x-gateway-connector-id`; both present must agree. */
export function resolveConnectorId(bodyValue: unknown, header: string | undefined): string {
  let fromBody: string | undefined;
  if (bodyValue !== undefined && bodyValue !== null) {
    if (typeof bodyValue !== 'string') throw invalid('connectorId', 'must be a string');
    fromBody = bodyValue.trim().toLowerCase();
  }
  const fromHeader = header?.trim().toLowerCase() || undefined;
  if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader)
    throw invalid('connectorId', 'differs from the x-gateway-connector-id header');
  const id = fromBody ?? fromHeader;
  if (id === undefined)
    throw invalid('connectorId', 'is required (body field or x-gateway-connector-id header)');
  if (!connectorIdPattern.test(id)) throw invalid('connectorId', `must match ${connectorIdPattern.source}`);
  return id;
}

/** Parses the raw body as a JSON object (no validation beyond that). */
export function parseBodyObject(rawBody: Buffer | undefined): Record<string, unknown> {
  if (!rawBody || rawBody.length === 0)
    throw new AppError('AGENT_GATEWAY_INGEST_INVALID_FIELDS', 'body: a JSON object is required.', {
      details: { fields: ['body'] },
    });
  const value = parseJsonBody(rawBody.toString('utf8'));
  if (!isObject(value))
    throw new AppError('AGENT_GATEWAY_INGEST_INVALID_FIELDS', 'body: must be a JSON object.', {
      details: { fields: ['body'] },
    });
  return value;
}

/** Validates every body field (SPEC §5 identifier rules); unknown fields are refused by name. */
export function parseIngestBody(
  body: Record<string, unknown>,
  connectorId: string,
  idempotencyHeader: string | undefined,
): IngestRequestInput {
  const unknown = Object.keys(body).filter((key) => !bodyKeys.has(key));
  if (unknown.length > 0) {
    throw new AppError(
      'AGENT_GATEWAY_INGEST_INVALID_FIELDS',
      `unknown field(s) ${unknown.map((k) => `body.${k}`).join(', ')}`,
      { details: { fields: unknown } },
    );
  }
  let eventId: string | undefined;
  if (body.eventId !== undefined && body.eventId !== null) {
    if (typeof body.eventId === 'number' && Number.isSafeInteger(body.eventId))
      eventId = String(body.eventId);
    else if (typeof body.eventId === 'string') eventId = body.eventId.trim();
    else throw invalid('eventId', 'must be a string or an integer');
  }
  const headerKey = idempotencyHeader?.trim() || undefined;
  if (eventId !== undefined && headerKey !== undefined && eventId !== headerKey)
    throw invalid('eventId', 'differs from the x-idempotency-key header');
  eventId ??= headerKey;
  if (eventId === undefined) throw invalid('eventId', 'is required (body field or x-idempotency-key header)');
  if (!eventIdPattern.test(eventId)) throw invalid('eventId', `must match ${eventIdPattern.source}`);

  const fields: IngestFields = {};
  if (body.adapter !== undefined && body.adapter !== null) {
    const adapter = typeof body.adapter === 'string' ? body.adapter.trim().toLowerCase() : body.adapter;
    if (!ingestAdapters.includes(adapter as IngestAdapter))
      throw invalid('adapter', `must be one of ${ingestAdapters.join(', ')}`);
    fields.adapter = adapter as IngestAdapter;
  }
  fields.channel = identifier(body, 'channel', patterns.channel);
  if (body.externalSessionId !== undefined && body.externalSessionId !== null) {
    if (typeof body.externalSessionId !== 'string') throw invalid('externalSessionId', 'must be a string');
    const value = body.externalSessionId.trim();
    if (!patterns.externalSessionId.test(value))
      throw invalid('externalSessionId', `must match ${patterns.externalSessionId.source}`);
    fields.externalSessionId = value;
  }
  if (body.draftId !== undefined && body.draftId !== null) {
    if (typeof body.draftId !== 'string' || !uuidPattern.test(body.draftId.trim()))
      throw invalid('draftId', 'must be a UUID');
    fields.draftId = body.draftId.trim().toLowerCase();
  }
  if (body.roles !== undefined && body.roles !== null) {
    if (!Array.isArray(body.roles) || body.roles.length > 16)
      throw invalid('roles', 'must be a list of at most 16 roles');
    fields.roles = body.roles.map((role, index) => {
      if (typeof role !== 'string' || !patterns.role.test(role.trim().toLowerCase()))
        throw invalid(`roles.${index}`, `must match ${patterns.role.source}`);
      return role.trim().toLowerCase();
    });
  }
  if (body.metadata !== undefined && body.metadata !== null) {
    if (!isObject(body.metadata)) throw invalid('metadata', 'must be a JSON object');
    fields.metadata = body.metadata;
  }
  fields.fromRole = identifier(body, 'fromRole', patterns.role);
  if (fields.fromRole === SYSTEM_ROLE)
    throw invalid('fromRole', 'the role "system" is written only by the gateway');
  fields.toRole = identifier(body, 'toRole', patterns.role);
  fields.type = identifier(body, 'type', patterns.eventType);
  if (fields.type && isReservedEventType(fields.type))
    throw invalid('type', `"${fields.type}" is written only by the gateway`);
  if (body.payload !== undefined) fields.payload = body.payload;
  for (const key of Object.keys(fields) as (keyof IngestFields)[])
    if (fields[key] === undefined) delete fields[key];
  return { connectorId, eventId, fields };
}
