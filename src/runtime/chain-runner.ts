import {
  AttemptSignal,
  type ChatMessage,
  type ProviderAdapter,
  type ProviderErrorCode,
  ProviderFailure,
  type ProviderKind,
  type ProviderMode,
  type TokenUsage,
} from '../providers/provider.js';
import { attemptRecord, failedResult, toFailure } from './attempt-records.js';
import type { CircuitGate } from './circuit-breaker.js';
import type { Clock } from './clock.js';
import type { Role } from './roles.js';
import { attemptTarget, backoffMs, isRetryable, simulatedFailure } from './run-policy.js';
import type { RuntimeDefinition } from './runtime-config.js';

/** One try of one (provider, profile), exactly as SPEC §4 records it (plus `mode` and the provider's reason). */
export interface RunAttempt {
  provider: string;
  authProfile: string;
  model: string;
  mode: ProviderMode;
  status: 'success' | 'failed' | 'skipped_cooldown';
  latencyMs: number | null;
  errorCode: ProviderErrorCode | null;
  errorMessage: string | null;
  httpStatus: number | null;
  reason: string | null;
}

export interface RoleRunResult {
  role: Role;
  selectedProvider: string | null;
  selectedAuthProfile: string | null;
  selectedModel: string | null;
  mode: ProviderMode | null;
  /** The answer; null when the run failed. Never empty on success. */
  output: string | null;
  failed: boolean;
  usage: TokenUsage | null;
  latencyMs: number;
  attempts: RunAttempt[];
  /** True when the run deadline stopped the run. */
  deadlineExceeded: boolean;
}

export interface RunRoleRequest {
  role: Role;
  prompt: string;
  /** Full conversation instead of a single prompt (the prompt is then ignored). */
  messages?: ChatMessage[];
  /** Provider ids to try instead of the role's chain. */
  providers?: readonly string[];
  attemptTimeoutMs?: number;
  deadlineMs?: number;
  maxOutputTokens?: number;
  /** Cancels the run (client went away). */
  signal?: AbortSignal;
}

/** A simulated failure of a route (dry-run `simulateFailures`). */
export interface SimulatedFailure {
  code: ProviderErrorCode;
  latencyMs: number;
}

/** Per-run switches used by dry-run: a read-only gate, simulated outages, no network. */
export interface RunOverrides {
  gate?: CircuitGate;
  simulate?: (provider: string, profile: string) => SimulatedFailure | undefined;
  /** Run network providers with the deterministic adapter (dry-run without `live: true`). */
  deterministicOnly?: boolean;
  /** A dry run: attempt hooks are told, so metrics leave it out (traces keep it). */
  dryRun?: boolean;
}

/** What an attempt hook learns besides the attempt. */
export interface AttemptContext {
  dryRun: boolean;
}

export interface ChainRunnerDeps {
  definition: RuntimeDefinition;
  adapters: Readonly<Record<ProviderKind, ProviderAdapter>>;
  gate: CircuitGate;
  clock: Clock;
  random: () => number;
  /** Called after every attempt (metrics hook). Must not throw. */
  onAttempt?: (role: Role, attempt: RunAttempt, context: AttemptContext) => void;
}

/**
 * `runRole`: tries the chain in order × auth profiles, skipping open circuits, each attempt under its own abortable
 * timeout and the whole run under a deadline; retries retryable failures on the same route (never timeouts or
 * non-retryable 4xx) honouring Retry-After or backoff with jitter, then fails over.
 */
export class ChainRunner {
  constructor(private readonly deps: ChainRunnerDeps) {}

  async runRole(request: RunRoleRequest, overrides: RunOverrides = {}): Promise<RoleRunResult> {
    const { definition, clock } = this.deps;
    const settings = definition.settings;
    const gate = overrides.gate ?? this.deps.gate;
    const start = clock.now();
    const deadline = start + (request.deadlineMs ?? settings.runDeadlineMs);
    const attemptLimit = request.attemptTimeoutMs ?? settings.attemptTimeoutMs;
    const messages = request.messages ?? [{ role: 'user' as const, content: request.prompt }];
    const attempts: RunAttempt[] = [];
    const role = request.role;

    for (const providerId of request.providers ?? definition.chains[role]) {
      const provider = definition.providers.get(providerId);
      if (!provider) continue;
      for (const profile of provider.profiles) {
        if (request.signal?.aborted) return failedResult(role, clock.now() - start, attempts, false);
        if (clock.now() >= deadline) return failedResult(role, clock.now() - start, attempts, true);
        const { target, mode, adapterKind } = attemptTarget(
          provider,
          profile,
          overrides.deterministicOnly === true,
        );
        const key = `${provider.id}@${profile.name}`;
        const decision = await gate.acquire(key);
        if (!decision.allowed) {
          this.record(role, overrides, attempts, attemptRecord(target, mode, 'skipped_cooldown', null, null));
          continue;
        }
        const adapter = this.deps.adapters[adapterKind];
        const simulated = overrides.simulate?.(provider.id, profile.name);
        for (let retry = 0; ; retry++) {
          const remaining = deadline - clock.now();
          if (remaining <= 0) return failedResult(role, clock.now() - start, attempts, true);
          const timeoutMs = Math.min(attemptLimit, remaining);
          const t0 = clock.now();
          try {
            const reply = await this.attempt(timeoutMs, request.signal, (signal) =>
              simulated
                ? simulatedFailure(clock, provider.id, simulated, signal).then((failure) =>
                    Promise.reject(failure),
                  )
                : adapter.complete(target, {
                    role,
                    messages,
                    signal,
                    maxOutputTokens: request.maxOutputTokens,
                  }),
            );
            if (reply.output.trim() === '') {
              throw new ProviderFailure({
                code: 'AI_PROVIDER_BAD_RESPONSE',
                retryable: false,
                message: `${provider.id} returned empty output`,
              });
            }
            const record = attemptRecord(target, mode, 'success', clock.now() - t0, null);
            record.model = reply.model;
            this.record(role, overrides, attempts, record);
            await gate.success(key);
            return {
              role,
              selectedProvider: provider.id,
              selectedAuthProfile: profile.name,
              selectedModel: reply.model,
              mode,
              output: reply.output,
              failed: false,
              usage: reply.usage,
              latencyMs: Math.round(clock.now() - start),
              attempts,
              deadlineExceeded: false,
            };
          } catch (error) {
            const failure = toFailure(error, provider.id);
            this.record(
              role,
              overrides,
              attempts,
              attemptRecord(target, mode, 'failed', clock.now() - t0, failure),
            );
            if (request.signal?.aborted) return failedResult(role, clock.now() - start, attempts, false);
            const cutByDeadline = failure.code === 'AI_PROVIDER_TIMEOUT' && timeoutMs < attemptLimit;
            if (cutByDeadline) return failedResult(role, clock.now() - start, attempts, true);
            if (isRetryable(failure) && retry < settings.maxRetriesPerProvider) {
              const wait =
                failure.retryAfterMs ?? backoffMs(retry, settings.maxRetryWaitMs, this.deps.random);
              if (wait <= settings.maxRetryWaitMs && clock.now() + wait < deadline) {
                try {
                  await clock.sleep(wait, request.signal);
                } catch {
                  return failedResult(role, clock.now() - start, attempts, false); // the caller cancelled the run
                }
                continue;
              }
            }
            await gate.failure(key, failure);
            break;
          }
        }
      }
    }
    return failedResult(role, clock.now() - start, attempts, false);
  }

  /**
   * Runs one call under an abortable timeout: the timer aborts the socket via the signal, and the race returns at
   * the timeout even if an adapter ignored its signal. Hot path: no per-call Error unless it actually times out.
   */
  private attempt<T>(
    timeoutMs: number,
    callerSignal: AbortSignal | undefined,
    call: (signal: AttemptSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AttemptSignal();
    return new Promise<T>((resolve, reject) => {
      const cancel = this.deps.clock.setTimer(timeoutMs, () => {
        const timeout = new ProviderFailure({
          code: 'AI_PROVIDER_TIMEOUT',
          retryable: false,
          message: `no answer within ${timeoutMs} ms; the request was aborted`,
        });
        controller.abort(timeout);
        reject(timeout);
      });
      const onCallerAbort = callerSignal
        ? () => {
            controller.abort(callerSignal.reason);
            reject(
              new ProviderFailure({ code: 'AI_PROVIDER_ERROR', retryable: false, message: 'run cancelled' }),
            );
          }
        : undefined;
      if (onCallerAbort) callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      call(controller).then(
        (value) => {
          cancel();
          if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          if (onCallerAbort) callerSignal?.removeEventListener('abort', onCallerAbort);
          reject(error);
        },
      );
    });
  }

  private record(role: Role, overrides: RunOverrides, attempts: RunAttempt[], attempt: RunAttempt): void {
    attempts.push(attempt);
    this.deps.onAttempt?.(role, attempt, { dryRun: overrides.dryRun === true });
  }
}
