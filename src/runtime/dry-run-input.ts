import { AppError } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { type ProviderErrorCode, providerErrorCodes } from '../providers/provider.js';
import { isRole, profileNamePattern, providerIdPattern, type Role, roles } from './roles.js';
import type { RuntimeDefinition } from './runtime-config.js';

/** A validated dry-run request (SPEC §4). */
export interface DryRunInput {
  role: Role;
  prompt: string;
  timeoutMs?: number;
  providersOverride?: string[];
  simulateFailures: {
    provider: string;
    profile: string | null;
    code: ProviderErrorCode;
    latencyMs: number;
  }[];
  correlation: {
    correlationId: string | null;
    releaseRunId: string | null;
    auditSessionId: string | null;
  } | null;
  live: boolean;
}

const knownFields = new Set([
  'role',
  'prompt',
  'timeoutMs',
  'providersOverride',
  'simulateFailures',
  'correlationId',
  'releaseRunId',
  'auditSessionId',
  'live',
]);
const correlationPattern = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,199}$/;

function fail(code: ErrorCode, field: string, message: string): never {
  throw new AppError(code, `${field}: ${message}`, { details: { fields: [field] } });
}

function providerRef(value: unknown, field: string, definition: RuntimeDefinition) {
  if (typeof value !== 'string')
    fail('AI_RUNTIME_INVALID_INPUT', field, 'must be a provider id or provider@profile');
  const [rawId = '', rawProfile, extra] = value.trim().toLowerCase().split('@');
  if (
    extra !== undefined ||
    !providerIdPattern.test(rawId) ||
    (rawProfile !== undefined && !profileNamePattern.test(rawProfile))
  ) {
    fail('AI_RUNTIME_INVALID_INPUT', field, 'must be a provider id or provider@profile');
  }
  const provider = definition.providers.get(rawId);
  if (!provider) fail('AI_RUNTIME_INVALID_INPUT', field, `unknown provider "${rawId}"`);
  if (rawProfile !== undefined && !provider.profiles.some((p) => p.name === rawProfile)) {
    fail('AI_RUNTIME_INVALID_INPUT', field, `provider "${rawId}" has no auth profile "${rawProfile}"`);
  }
  return { provider: rawId, profile: rawProfile ?? null };
}

/** Validates a dry-run body; each problem maps to its stable code, naming the field. */
export function parseDryRunInput(body: unknown, definition: RuntimeDefinition): DryRunInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    fail('AI_RUNTIME_DRY_RUN_INVALID_FIELDS', 'body', 'must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((key) => !knownFields.has(key));
  if (unknown.length > 0) {
    throw new AppError('AI_RUNTIME_DRY_RUN_INVALID_FIELDS', `unknown field(s): ${unknown.join(', ')}`, {
      details: { fields: unknown },
    });
  }
  if (!isRole(b.role)) fail('AI_RUNTIME_INVALID_ROLE', 'role', `must be one of ${roles.join(', ')}`);
  if (typeof b.prompt !== 'string')
    fail('AI_RUNTIME_INVALID_PROMPT', 'prompt', 'is required and must be a string');
  const prompt = b.prompt.trim();
  if (prompt.length < 1 || prompt.length > 4000)
    fail('AI_RUNTIME_INVALID_PROMPT', 'prompt', 'must be 1 to 4000 characters');
  if (
    b.timeoutMs !== undefined &&
    (!Number.isInteger(b.timeoutMs) || (b.timeoutMs as number) < 1 || (b.timeoutMs as number) > 120000)
  ) {
    fail('AI_RUNTIME_INVALID_TIMEOUT', 'timeoutMs', 'must be an integer from 1 to 120000');
  }
  let providersOverride: string[] | undefined;
  if (b.providersOverride !== undefined) {
    if (
      !Array.isArray(b.providersOverride) ||
      b.providersOverride.length < 1 ||
      b.providersOverride.length > 10
    ) {
      fail('AI_RUNTIME_INVALID_INPUT', 'providersOverride', 'must be a list of 1 to 10 provider ids');
    }
    providersOverride = [];
    for (const [i, item] of b.providersOverride.entries()) {
      const ref = providerRef(item, `providersOverride.${i}`, definition);
      if (ref.profile !== null)
        fail('AI_RUNTIME_INVALID_INPUT', `providersOverride.${i}`, 'must be a provider id');
      if (!providersOverride.includes(ref.provider)) providersOverride.push(ref.provider);
    }
  }
  const simulateFailures: DryRunInput['simulateFailures'] = [];
  if (b.simulateFailures !== undefined) {
    if (!Array.isArray(b.simulateFailures) || b.simulateFailures.length > 10) {
      fail('AI_RUNTIME_INVALID_INPUT', 'simulateFailures', 'must be a list of at most 10 entries');
    }
    for (const [i, item] of b.simulateFailures.entries()) {
      const field = `simulateFailures.${i}`;
      if (typeof item === 'string') {
        simulateFailures.push({
          ...providerRef(item, field, definition),
          code: 'AI_PROVIDER_UNAVAILABLE',
          latencyMs: 0,
        });
        continue;
      }
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        fail('AI_RUNTIME_INVALID_INPUT', field, 'must be a provider id or { provider, code, latencyMs }');
      const entry = item as Record<string, unknown>;
      const extra = Object.keys(entry).filter((k) => !['provider', 'code', 'latencyMs'].includes(k));
      if (extra.length > 0) fail('AI_RUNTIME_INVALID_INPUT', field, `unknown field(s) ${extra.join(', ')}`);
      const ref = providerRef(entry.provider, `${field}.provider`, definition);
      const code = entry.code ?? 'AI_PROVIDER_UNAVAILABLE';
      if (typeof code !== 'string' || !(providerErrorCodes as readonly string[]).includes(code)) {
        fail('AI_RUNTIME_INVALID_INPUT', `${field}.code`, `must be one of ${providerErrorCodes.join(', ')}`);
      }
      const latencyMs = entry.latencyMs ?? 0;
      if (!Number.isInteger(latencyMs) || (latencyMs as number) < 0 || (latencyMs as number) > 120000) {
        fail('AI_RUNTIME_INVALID_INPUT', `${field}.latencyMs`, 'must be an integer from 0 to 120000');
      }
      simulateFailures.push({ ...ref, code: code as ProviderErrorCode, latencyMs: latencyMs as number });
    }
  }
  const ids: Record<string, string | null> = {};
  for (const key of ['correlationId', 'releaseRunId', 'auditSessionId'] as const) {
    const value = b[key];
    if (value === undefined || value === null) {
      ids[key] = null;
      continue;
    }
    if (typeof value !== 'string' || !correlationPattern.test(value.trim())) {
      fail('AI_RUNTIME_INVALID_INPUT', key, `must be 1 to 200 characters of ${correlationPattern.source}`);
    }
    ids[key] = value.trim();
  }
  if (b.live !== undefined && typeof b.live !== 'boolean')
    fail('AI_RUNTIME_INVALID_INPUT', 'live', 'must be true or false');
  const hasCorrelation = Object.values(ids).some((v) => v !== null);
  return {
    role: b.role,
    prompt,
    ...(b.timeoutMs !== undefined ? { timeoutMs: b.timeoutMs as number } : {}),
    ...(providersOverride ? { providersOverride } : {}),
    simulateFailures,
    correlation: hasCorrelation
      ? {
          correlationId: ids.correlationId ?? null,
          releaseRunId: ids.releaseRunId ?? null,
          auditSessionId: ids.auditSessionId ?? null,
        }
      : null,
    live: b.live === true,
  };
}
