import type {
  AttemptSignal,
  CallSignal,
  ProviderAdapter,
  ProviderFailure,
  ProviderMode,
  ProviderTarget,
} from '../providers/provider.js';
import type { RunAttempt } from './chain-runner.js';
import type { Role } from './roles.js';
import type { ProviderDefinition } from './runtime-config.js';

/** What `ChainRunner.runChain` executes and returns: the shapes `runRole` and `/v1` share. */

/** One entry of a run plan: a provider, and for the /v1 default upstream the model to ask it for. */
export interface RunRoute {
  provider: ProviderDefinition;
  /** Replaces the profile's model (the /v1 default upstream serves any model name). */
  model?: string;
  /** Circuit key base instead of the provider id (one circuit per default-upstream model). */
  circuitId?: string;
}

/** A run over explicit routes: what `runRole` and `/v1/chat/completions` both execute. */
export interface ChainPlan {
  /** The role (deterministic prefixes, metrics), or null for a /v1 call that names no role. */
  role: Role | null;
  routes: readonly RunRoute[];
  /** Per-attempt limit; a streaming call passes its time-to-first-token limit here. */
  attemptTimeoutMs?: number;
  deadlineMs?: number;
  /** Cancels the run (client went away); the cheap AttemptSignal is accepted too (/v1 makes one per request). */
  signal?: CallSignal;
}

/** What one attempt gets: the resolved route, the adapter to call and the signal that aborts its socket. */
export interface AttemptContext {
  target: ProviderTarget;
  mode: ProviderMode;
  adapter: ProviderAdapter;
  signal: AttemptSignal;
}

/** An attempt's answer and the model that produced it. */
export interface AttemptAnswer<T> {
  value: T;
  model: string;
}

export interface ChainOutcome<T> {
  /** The answering route, or null when no route answered. */
  answer: (AttemptAnswer<T> & { provider: string; profile: string; mode: ProviderMode }) | null;
  /** Every attempt so far; the answering one is added by `settle`. */
  attempts: RunAttempt[];
  latencyMs: number;
  deadlineExceeded: boolean;
  /**
   * Records the answering attempt and updates its circuit, once: at once for a complete answer; for a stream, when
   * it ends, with the failure if it broke after its first token (the client already has part of the answer).
   */
  settle(failure?: ProviderFailure): Promise<void>;
}
