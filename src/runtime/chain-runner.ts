import {
  type ChatMessage,
  type ProviderAdapter,
  type ProviderErrorCode,
  ProviderFailure,
  type ProviderKind,
  type ProviderMode,
  type ProviderReply,
  type TokenUsage,
} from '../providers/provider.js';
import { attemptRecord, failedResult, toFailure } from './attempt-records.js';
import { withAttemptTimeout } from './attempt-timeout.js';
import type { AttemptAnswer, AttemptContext, ChainOutcome, ChainPlan, RunRoute } from './chain-plan.js';
import type { CircuitDecision, CircuitGate } from './circuit-breaker.js';
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
export interface AttemptHookContext {
  dryRun: boolean;
  /**
   * The caller cancelled the run while this attempt was in flight (the client went away): the attempt is recorded
   * as failed, but it says nothing about the provider, so metrics count it apart from provider errors.
   */
  cancelled: boolean;
}

// Shared, frozen: the hook context costs no allocation per attempt.
const liveHook: AttemptHookContext = Object.freeze({ dryRun: false, cancelled: false });
const dryRunHook: AttemptHookContext = Object.freeze({ dryRun: true, cancelled: false });
const cancelledHook: AttemptHookContext = Object.freeze({ dryRun: false, cancelled: true });

export interface ChainRunnerDeps {
  definition: RuntimeDefinition;
  adapters: Readonly<Record<ProviderKind, ProviderAdapter>>;
  gate: CircuitGate;
  clock: Clock;
  random: () => number;
  /** Called after every attempt (metrics hook); `role` is null for /v1 calls that name no role. Must not throw. */
  onAttempt?: (role: Role | null, attempt: RunAttempt, context: AttemptHookContext) => void;
}

const settled = async () => undefined;

/**
 * The chain runner: routes in order × auth profiles, skipping open circuits, each attempt under its own abortable
 * timeout and the whole run under a deadline; retries retryable failures on the same route (never timeouts or
 * non-retryable 4xx) honouring Retry-After or backoff with jitter, then fails over.
 */
export class ChainRunner {
  constructor(private readonly deps: ChainRunnerDeps) {}

  /** `runRole`: the role's chain (or `request.providers`), answering with non-empty text. */
  async runRole(request: RunRoleRequest, overrides: RunOverrides = {}): Promise<RoleRunResult> {
    const { definition } = this.deps;
    const role = request.role;
    const messages = request.messages ?? [{ role: 'user' as const, content: request.prompt }];
    const routes: RunRoute[] = [];
    for (const id of request.providers ?? definition.chains[role]) {
      const provider = definition.providers.get(id);
      if (provider) routes.push({ provider });
    }
    const outcome = await this.runChain<ProviderReply>(
      {
        role,
        routes,
        attemptTimeoutMs: request.attemptTimeoutMs,
        deadlineMs: request.deadlineMs,
        signal: request.signal,
      },
      async ({ adapter, target, signal }) => {
        const reply = await adapter.complete(target, {
          role,
          messages,
          signal,
          maxOutputTokens: request.maxOutputTokens,
        });
        if (reply.output.trim() === '') {
          throw new ProviderFailure({
            code: 'AI_PROVIDER_BAD_RESPONSE',
            retryable: false,
            message: `${target.provider} returned empty output`,
          });
        }
        return { value: reply, model: reply.model };
      },
      overrides,
    );
    const { answer } = outcome;
    if (!answer) return failedResult(role, outcome.latencyMs, outcome.attempts, outcome.deadlineExceeded);
    await outcome.settle();
    return {
      role,
      selectedProvider: answer.provider,
      selectedAuthProfile: answer.profile,
      selectedModel: answer.model,
      mode: answer.mode,
      output: answer.value.output,
      failed: false,
      usage: answer.value.usage,
      latencyMs: outcome.latencyMs,
      attempts: outcome.attempts,
      deadlineExceeded: false,
    };
  }

  /** Runs a plan; `invoke` makes one attempt and returns its answer or throws (classified) failures. */
  async runChain<T>(
    plan: ChainPlan,
    invoke: (context: AttemptContext) => Promise<AttemptAnswer<T>>,
    overrides: RunOverrides = {},
  ): Promise<ChainOutcome<T>> {
    const { definition, clock } = this.deps;
    const settings = definition.settings;
    const gate = overrides.gate ?? this.deps.gate;
    const start = clock.now();
    const deadline = start + (plan.deadlineMs ?? settings.runDeadlineMs);
    const attemptLimit = plan.attemptTimeoutMs ?? settings.attemptTimeoutMs;
    const attempts: RunAttempt[] = [];
    const { role, signal: callerSignal } = plan;
    const failed = (deadlineExceeded: boolean): ChainOutcome<T> => ({
      answer: null,
      attempts,
      latencyMs: Math.round(clock.now() - start),
      deadlineExceeded,
      settle: settled,
    });

    for (const route of plan.routes) {
      const provider = route.provider;
      for (const profile of provider.profiles) {
        if (callerSignal?.aborted) return failed(false);
        if (clock.now() >= deadline) return failed(true);
        const { target, mode, adapterKind } = attemptTarget(
          provider,
          profile,
          overrides.deterministicOnly === true,
        );
        if (route.model !== undefined && mode === 'live') target.model = route.model;
        const key = `${route.circuitId ?? provider.id}@${profile.name}`;
        const decision = await gate.acquire(key);
        if (!decision.allowed) {
          this.record(role, overrides, attempts, attemptRecord(target, mode, 'skipped_cooldown', null, null));
          continue;
        }
        const adapter = this.deps.adapters[adapterKind];
        const simulated = overrides.simulate?.(provider.id, profile.name);
        // The last real failure on this route, for the circuit if the run stops here early (deadline, caller gone).
        let lastFailure: ProviderFailure | null = null;
        for (let retry = 0; ; retry++) {
          const remaining = deadline - clock.now();
          if (remaining <= 0) {
            await leave(gate, key, decision, lastFailure);
            return failed(true);
          }
          const timeoutMs = Math.min(attemptLimit, remaining);
          const t0 = clock.now();
          try {
            const answer = await withAttemptTimeout(clock, timeoutMs, callerSignal, (signal) =>
              simulated
                ? simulatedFailure(clock, provider.id, simulated, signal).then((failure) =>
                    Promise.reject(failure),
                  )
                : invoke({ target, mode, adapter, signal }),
            );
            // The attempt's latency is the time to its answer: for a stream, the first content chunk (the time the
            // rest of the stream takes is the answer's length, not the provider's speed).
            const latencyMs = clock.now() - t0;
            let once = false;
            return {
              answer: {
                value: answer.value,
                model: answer.model,
                provider: provider.id,
                profile: profile.name,
                mode,
              },
              attempts,
              latencyMs: Math.round(clock.now() - start),
              deadlineExceeded: false,
              settle: async (failure) => {
                if (once) return;
                once = true;
                const record = attemptRecord(
                  target,
                  mode,
                  failure ? 'failed' : 'success',
                  latencyMs,
                  failure ?? null,
                );
                record.model = answer.model;
                this.record(role, overrides, attempts, record);
                await (failure ? gate.failure(key, failure) : gate.success(key));
              },
            };
          } catch (error) {
            const failure = toFailure(error, provider.id);
            this.record(
              role,
              overrides,
              attempts,
              attemptRecord(target, mode, 'failed', clock.now() - t0, failure),
              callerSignal?.aborted === true,
            );
            if (callerSignal?.aborted) {
              await leave(gate, key, decision, lastFailure);
              return failed(false);
            }
            const cutByDeadline = failure.code === 'AI_PROVIDER_TIMEOUT' && timeoutMs < attemptLimit;
            if (cutByDeadline) {
              await leave(gate, key, decision, lastFailure);
              return failed(true);
            }
            if (isRetryable(failure) && retry < settings.maxRetriesPerProvider) {
              const wait =
                failure.retryAfterMs ?? backoffMs(retry, settings.maxRetryWaitMs, this.deps.random);
              if (wait <= settings.maxRetryWaitMs && clock.now() + wait < deadline) {
                lastFailure = failure;
                try {
                  await clock.sleep(wait, callerSignal);
                } catch {
                  await leave(gate, key, decision, lastFailure);
                  return failed(false); // the caller cancelled the run
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
    return failed(false);
  }

  private record(
    role: Role | null,
    overrides: RunOverrides,
    attempts: RunAttempt[],
    attempt: RunAttempt,
    cancelled = false,
  ): void {
    attempts.push(attempt);
    this.deps.onAttempt?.(
      role,
      attempt,
      overrides.dryRun === true ? dryRunHook : cancelled ? cancelledHook : liveHook,
    );
  }
}

/**
 * A run stops on a route early (deadline, caller gone): the circuit learns the route's last real failure if there was
 * one; otherwise there is no verdict, and a probe hands its lease back.
 */
function leave(
  gate: CircuitGate,
  key: string,
  decision: CircuitDecision,
  lastFailure: ProviderFailure | null,
): Promise<void> {
  return lastFailure ? gate.failure(key, lastFailure) : gate.release(key, decision);
}
