/** Circuit phases of one (provider, auth profile). */
export type CircuitPhase = 'closed' | 'open' | 'half_open';

/** Stored state of one circuit; times are epoch milliseconds from the runtime clock. */
export interface CircuitState {
  phase: CircuitPhase;
  reason: string | null;
  openedAt: number | null;
  cooldownUntil: number | null;
  failureCount: number;
  lastFailureCode: string | null;
  /** Consecutive opens without a success in between; drives the reopen backoff. */
  openCount: number;
  /** While half-open: until when the one probe holds its lease (a crashed probe frees it). */
  probeUntil: number | null;
}

/** What an update function decides: write `next` (null deletes) or keep the stored state, and what to return. */
export interface CircuitUpdate<T> {
  next: CircuitState | null | 'keep';
  result: T;
}

/**
 * Where circuits live: this process (MemoryCircuitStore) or Redis shared by every replica (RedisCircuitStore).
 * `update` is an atomic read-modify-write: `fn` sees the current state and no other writer can interleave;
 * it may be called again after a conflict, so it must be pure.
 */
export interface CircuitStore {
  readonly kind: 'memory' | 'redis';
  getMany(keys: readonly string[]): Promise<(CircuitState | undefined)[]>;
  update<T>(
    key: string,
    now: number,
    fn: (current: CircuitState | undefined) => CircuitUpdate<T>,
  ): Promise<T>;
  /** Removes every circuit (tests, and an operator reset later). */
  clear(): Promise<void>;
  /**
   * True when the store knows synchronously (in-process state, or a live mirror of the shared one) that the circuit
   * is closed with no failures: the breaker then admits the call and skips recording its success, with no promise
   * and no round trip. False means "ask the store".
   */
  isQuiet?(key: string): boolean;
  /** Shared stores with a local mirror: whether it answers now (`live`), is (re)loading or down, or is disabled. */
  mirrorState?(): 'live' | 'loading' | 'off';
  close?(): Promise<void>;
}

/** Closed (or never failed): a call goes through and its success changes nothing. */
export function quiet(state: CircuitState | undefined): boolean {
  return state === undefined || (state.phase === 'closed' && state.failureCount === 0);
}

/** In-process circuits of one replica. Updates are synchronous, hence atomic. */
export class MemoryCircuitStore implements CircuitStore {
  readonly kind = 'memory' as const;
  private readonly states = new Map<string, CircuitState>();

  async getMany(keys: readonly string[]): Promise<(CircuitState | undefined)[]> {
    return keys.map((key) => this.states.get(key));
  }

  isQuiet(key: string): boolean {
    return quiet(this.states.get(key));
  }

  async update<T>(key: string, _now: number, fn: (current: CircuitState | undefined) => CircuitUpdate<T>) {
    const { next, result } = fn(this.states.get(key));
    if (next === null) this.states.delete(key);
    else if (next !== 'keep') this.states.set(key, next);
    return result;
  }

  async clear(): Promise<void> {
    this.states.clear();
  }
}
