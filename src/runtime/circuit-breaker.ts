import type { ProviderErrorCode } from '../providers/provider.js';
import {
  type CircuitPhase,
  type CircuitState,
  type CircuitStore,
  MemoryCircuitStore,
} from './circuit-store.js';
import type { Clock } from './clock.js';

/** What the runner may do with a (provider, profile) now. */
export interface CircuitDecision {
  allowed: boolean;
  /** True when this call is the one half-open probe. */
  probe: boolean;
  /** The probe's lease (its `probeUntil`), so only this probe can hand it back. */
  leaseUntil?: number;
}

/** The failure facts the breaker needs (a subset of ProviderFailure). */
export interface CircuitFailure {
  code: ProviderErrorCode;
  retryAfterMs: number | null;
  httpStatus: number | null;
}

/** The breaker as the chain runner sees it. Dry-runs get a read-only gate that never writes. */
export interface CircuitGate {
  acquire(key: string): Promise<CircuitDecision>;
  success(key: string): Promise<void>;
  failure(key: string, failure: CircuitFailure): Promise<void>;
  /**
   * The attempt ended with no verdict on the provider (the caller cancelled the run): a probe hands its lease back so
   * the next call probes at once, instead of every call being refused until the lease runs out.
   */
  release(key: string, decision: CircuitDecision): Promise<void>;
}

export interface CircuitPolicy {
  /** Open duration for most failures (AI_PROVIDER_COOLDOWN_MS). */
  cooldownMs: number;
  /** Open duration after an auth error (default 10 × cooldown, at least 5 minutes). */
  authCooldownMs?: number;
  /** Upper bound of the reopen backoff (default 16 × cooldown). */
  maxCooldownMs?: number;
  /** How long one probe holds the half-open lease before another may try (default 2 × attempt timeout). */
  probeLeaseMs: number;
}

/** A circuit as payloads show it, relative to now. */
export interface CircuitView {
  circuit: CircuitPhase;
  coolingDown: boolean;
  cooldownUntil: string | null;
  openedAt: string | null;
  reason: string | null;
  failureCount: number;
  lastFailureCode: string | null;
}

const reasons: Record<ProviderErrorCode, string> = {
  AI_PROVIDER_TIMEOUT: 'timeout',
  AI_PROVIDER_HTTP_ERROR: 'http_error',
  AI_PROVIDER_UNAVAILABLE: 'unavailable',
  AI_PROVIDER_RATE_LIMITED: 'rate_limited',
  AI_PROVIDER_AUTH_ERROR: 'auth_error',
  AI_PROVIDER_BAD_REQUEST: 'bad_request',
  AI_PROVIDER_BAD_RESPONSE: 'bad_response',
  AI_PROVIDER_ERROR: 'error',
};

// Shared settled promises for the hot path (a circuit known closed without a round trip).
const allowedNow: Promise<CircuitDecision> = Promise.resolve(Object.freeze({ allowed: true, probe: false }));
const doneNow: Promise<void> = Promise.resolve();

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Circuit breaker per (provider, profile): a failure opens it for a reason-aware cooldown (Retry-After for 429,
 * long for auth errors, the cooldown otherwise; bad requests never open it). When the cooldown lapses exactly one
 * call takes the half-open probe: success closes, failure reopens with exponential backoff.
 */
export class CircuitBreaker implements CircuitGate {
  private readonly authCooldownMs: number;
  private readonly maxCooldownMs: number;

  constructor(
    readonly store: CircuitStore,
    private readonly clock: Clock,
    private readonly policy: CircuitPolicy,
  ) {
    this.authCooldownMs = policy.authCooldownMs ?? Math.max(policy.cooldownMs * 10, 300_000);
    this.maxCooldownMs = policy.maxCooldownMs ?? policy.cooldownMs * 16;
  }

  /** Last circuit store failure (Redis down); this replica's local circuits stand in meanwhile and health says so. */
  storeError: string | null = null;
  /** Told about each operation that fell back to local circuits (logging, metrics); must not throw. */
  onStoreError: (error: unknown) => void = () => undefined;
  /** This replica's circuits while the shared store is unreachable; cleared once it answers again. */
  private readonly local = new MemoryCircuitStore();

  private async guarded<T>(work: (store: CircuitStore) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work(this.store);
    } catch (error) {
      // A circuit store outage must not stop role runs, nor leave failing providers unguarded: the same transitions
      // run on local state (a provider that fails here opens here) until the shared store is back.
      this.storeError = (error as Error)?.message ?? String(error);
      this.onStoreError(error);
      return work(this.local);
    }
    if (this.storeError !== null) {
      this.storeError = null;
      await this.local.clear();
    }
    return result;
  }

  /** Closed circuit, known without a round trip; never while the shared store is failing (local state rules). */
  private quiet(key: string): boolean {
    return this.storeError === null && this.store.isQuiet !== undefined && this.store.isQuiet(key);
  }

  acquire(key: string): Promise<CircuitDecision> {
    if (this.quiet(key)) return allowedNow;
    return this.guarded((store) => this.acquireFromStore(store, key));
  }

  success(key: string): Promise<void> {
    if (this.quiet(key)) return doneNow;
    return this.guarded((store) => this.successInStore(store, key));
  }

  failure(key: string, failure: CircuitFailure): Promise<void> {
    return this.guarded((store) => this.failureInStore(store, key, failure));
  }

  release(key: string, decision: CircuitDecision): Promise<void> {
    if (!decision.probe || decision.leaseUntil === undefined) return doneNow;
    return this.guarded((store) =>
      store.update(key, this.clock.now(), (current) =>
        // Only this probe's own lease: once it lapsed, another call may hold a new one.
        current?.phase === 'half_open' && current.probeUntil === decision.leaseUntil
          ? { next: { ...current, probeUntil: null }, result: undefined }
          : { next: 'keep', result: undefined },
      ),
    );
  }

  private acquireFromStore(store: CircuitStore, key: string): Promise<CircuitDecision> {
    const now = this.clock.now();
    return store.update<CircuitDecision>(key, now, (current) => {
      if (!current || current.phase === 'closed')
        return { next: 'keep', result: { allowed: true, probe: false } };
      if (current.phase === 'open' && now < (current.cooldownUntil ?? 0)) {
        return { next: 'keep', result: { allowed: false, probe: false } };
      }
      if (current.phase === 'half_open' && now < (current.probeUntil ?? 0)) {
        return { next: 'keep', result: { allowed: false, probe: false } };
      }
      const next: CircuitState = {
        ...current,
        phase: 'half_open',
        probeUntil: now + this.policy.probeLeaseMs,
      };
      return { next, result: { allowed: true, probe: true, leaseUntil: next.probeUntil as number } };
    });
  }

  private async successInStore(store: CircuitStore, key: string): Promise<void> {
    await store.update(key, this.clock.now(), (current) => {
      if (!current || (current.phase === 'closed' && current.failureCount === 0))
        return { next: 'keep', result: 0 };
      return { next: closedAfter(current), result: 0 };
    });
  }

  private async failureInStore(store: CircuitStore, key: string, failure: CircuitFailure): Promise<void> {
    const now = this.clock.now();
    await store.update(key, now, (current) => {
      if (failure.code === 'AI_PROVIDER_BAD_REQUEST') {
        // The provider answered: a probe that gets a 4xx proves it is reachable again.
        return { next: current?.phase === 'half_open' ? closedAfter(current) : 'keep', result: 0 };
      }
      const reopening =
        current?.phase === 'half_open' || (current?.phase === 'open' && now >= (current.cooldownUntil ?? 0));
      const openCount = reopening ? (current?.openCount ?? 0) + 1 : Math.max(current?.openCount ?? 0, 1);
      const base = this.baseCooldown(failure);
      const backoff = Math.min(base * 2 ** (openCount - 1), Math.max(this.maxCooldownMs, base));
      const until =
        now + (failure.code === 'AI_PROVIDER_RATE_LIMITED' && failure.retryAfterMs !== null ? base : backoff);
      const stillOpen = current?.phase === 'open' && !reopening;
      const next: CircuitState = {
        phase: 'open',
        reason:
          failure.code === 'AI_PROVIDER_HTTP_ERROR' && failure.httpStatus
            ? `http_${failure.httpStatus}`
            : reasons[failure.code],
        openedAt: stillOpen ? (current.openedAt ?? now) : now,
        cooldownUntil: stillOpen ? Math.max(current.cooldownUntil ?? 0, until) : until,
        failureCount: (current?.failureCount ?? 0) + 1,
        lastFailureCode: failure.code,
        openCount,
        probeUntil: null,
      };
      return { next, result: 0 };
    });
  }

  private baseCooldown(failure: CircuitFailure): number {
    if (failure.code === 'AI_PROVIDER_AUTH_ERROR') return this.authCooldownMs;
    if (failure.code === 'AI_PROVIDER_RATE_LIMITED' && failure.retryAfterMs !== null)
      return failure.retryAfterMs;
    return this.policy.cooldownMs;
  }

  /** Current views of many circuits (health, profiles). */
  async views(keys: readonly string[]): Promise<CircuitView[]> {
    const now = this.clock.now();
    const states = await this.guarded((store) => store.getMany(keys));
    return states.map((state) => viewOf(state, now));
  }

  /** A gate that reads circuits but never changes them (dry-run). */
  readOnly(): CircuitGate {
    return {
      acquire: async (key) => {
        const [view] = await this.views([key]);
        return { allowed: !view?.coolingDown, probe: false };
      },
      success: async () => undefined,
      failure: async () => undefined,
      release: async () => undefined,
    };
  }
}

function closedAfter(current: CircuitState): CircuitState {
  return {
    phase: 'closed',
    reason: null,
    openedAt: null,
    cooldownUntil: null,
    failureCount: 0,
    lastFailureCode: current.lastFailureCode,
    openCount: 0,
    probeUntil: null,
  };
}

/** Open with the cooldown lapsed reads as half-open (the next call probes); a probe in flight blocks others. */
export function viewOf(state: CircuitState | undefined, now: number): CircuitView {
  if (!state) {
    return {
      circuit: 'closed',
      coolingDown: false,
      cooldownUntil: null,
      openedAt: null,
      reason: null,
      failureCount: 0,
      lastFailureCode: null,
    };
  }
  let circuit = state.phase;
  let coolingDown = false;
  if (state.phase === 'open') {
    coolingDown = now < (state.cooldownUntil ?? 0);
    if (!coolingDown) circuit = 'half_open';
  } else if (state.phase === 'half_open') {
    coolingDown = now < (state.probeUntil ?? 0);
  }
  return {
    circuit,
    coolingDown,
    cooldownUntil: coolingDown
      ? iso(state.phase === 'half_open' ? state.probeUntil : state.cooldownUntil)
      : null,
    openedAt: iso(state.openedAt),
    reason: state.reason,
    failureCount: state.failureCount,
    lastFailureCode: state.lastFailureCode,
  };
}
