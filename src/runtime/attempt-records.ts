import {
  isProviderFailure,
  ProviderFailure,
  type ProviderMode,
  type ProviderTarget,
} from '../providers/provider.js';
import type { RoleRunResult, RunAttempt } from './chain-runner.js';
import type { Role } from './roles.js';

/** One attempt as SPEC §4 records it. */
export function attemptRecord(
  target: ProviderTarget,
  mode: ProviderMode,
  status: RunAttempt['status'],
  latencyMs: number | null,
  failure: ProviderFailure | null,
): RunAttempt {
  return {
    provider: target.provider,
    authProfile: target.profile,
    model: target.model,
    mode,
    status,
    latencyMs: latencyMs === null ? null : Math.round(latencyMs),
    errorCode: failure?.code ?? null,
    errorMessage: failure
      ? redact(failure.message, target.apiKey)
      : status === 'skipped_cooldown'
        ? 'circuit open: cooling down'
        : null,
    httpStatus: failure?.httpStatus ?? null,
    reason: failure?.reason ?? null,
  };
}

/** Upstream error texts sometimes quote the credential back; attempts never carry it. */
function redact(message: string, apiKey: string | undefined): string {
  return apiKey && apiKey.length >= 4 && message.includes(apiKey)
    ? message.replaceAll(apiKey, '[redacted]')
    : message;
}

/** The result of a run that found no answer. */
export function failedResult(
  role: Role,
  latencyMs: number,
  attempts: RunAttempt[],
  deadlineExceeded: boolean,
): RoleRunResult {
  return {
    role,
    selectedProvider: null,
    selectedAuthProfile: null,
    selectedModel: null,
    mode: null,
    output: null,
    failed: true,
    usage: null,
    latencyMs: Math.round(latencyMs),
    attempts,
    deadlineExceeded,
  };
}

/** Anything an adapter throws, as a classified failure. */
export function toFailure(error: unknown, provider: string): ProviderFailure {
  if (isProviderFailure(error)) return error;
  return new ProviderFailure({
    code: 'AI_PROVIDER_ERROR',
    retryable: false,
    message: `${provider} adapter failed: ${(error as Error)?.message ?? String(error)}`.slice(0, 300),
    cause: error,
  });
}
