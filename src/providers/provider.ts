import { EventEmitter } from 'node:events';
import type { ChatCall, ChatCompletion, ChatStream } from './chat-completion.js';

/**
 * The one interface every LLM API folder implements. The chain runner sees only this file's types: a reply, or a
 * ProviderFailure with a stable code, `retryable`, the upstream status, the provider's reason and Retry-After.
 */

export const providerKinds = ['openai', 'anthropic', 'gemini', 'http', 'deterministic'] as const;
export type ProviderKind = (typeof providerKinds)[number];

/** Whether a call reaches a real model (`live`) or the built-in deterministic stand-in. */
export type ProviderMode = 'live' | 'deterministic';

/** Classified attempt failures (SPEC §4); also AppError codes in the catalogue. */
export const providerErrorCodes = [
  'AI_PROVIDER_TIMEOUT',
  'AI_PROVIDER_HTTP_ERROR',
  'AI_PROVIDER_UNAVAILABLE',
  'AI_PROVIDER_RATE_LIMITED',
  'AI_PROVIDER_AUTH_ERROR',
  'AI_PROVIDER_BAD_REQUEST',
  'AI_PROVIDER_BAD_RESPONSE',
  'AI_PROVIDER_ERROR',
] as const;
export type ProviderErrorCode = (typeof providerErrorCodes)[number];

/**
 * A cheap abort signal for one attempt. undici accepts an EventEmitter as `signal`; wiring an AbortSignal (an
 * EventTarget) costs it ~15 µs of CPU per request, as much as the rest of the runtime. Emits `abort` once.
 */
export class AttemptSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort', reason);
  }
}

/** What adapters accept as an abort signal: the runtime's AttemptSignal, or a standard AbortSignal. */
export type CallSignal = AbortSignal | AttemptSignal;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One resolved (provider, auth profile) route. `apiKey` is a secret: never logged or returned. */
export interface ProviderTarget {
  provider: string;
  profile: string;
  kind: ProviderKind;
  model: string;
  endpoint?: string;
  apiKey?: string;
}

export interface ProviderCall {
  role: string;
  /** The conversation; the runner builds `[{ role: 'user', content: prompt }]` for a plain prompt. */
  messages: ChatMessage[];
  maxOutputTokens?: number;
  /** Aborted when the attempt times out or the run is cancelled; adapters pass it to the socket. */
  signal: CallSignal;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ProviderReply {
  output: string;
  /** The model that actually answered, as the provider reports it. */
  model: string;
  usage: TokenUsage | null;
}

export interface ProviderFailureInit {
  code: ProviderErrorCode;
  message: string;
  retryable: boolean;
  httpStatus?: number | null;
  /** The provider's own reason, e.g. `context_length_exceeded`, `content_policy`, `overloaded_error`. */
  reason?: string | null;
  /** Parsed Retry-After (or retry-after-ms), in milliseconds. */
  retryAfterMs?: number | null;
  cause?: unknown;
}

/** A classified failure of one attempt. Failover reads only these fields, never raw responses. */
export class ProviderFailure extends Error {
  readonly code: ProviderErrorCode;
  readonly retryable: boolean;
  readonly httpStatus: number | null;
  readonly reason: string | null;
  readonly retryAfterMs: number | null;

  constructor(init: ProviderFailureInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProviderFailure';
    this.code = init.code;
    this.retryable = init.retryable;
    this.httpStatus = init.httpStatus ?? null;
    this.reason = init.reason ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }
}

export function isProviderFailure(error: unknown): error is ProviderFailure {
  return error instanceof ProviderFailure;
}

/**
 * An LLM API behind one small interface. `complete` returns a non-empty reply or throws ProviderFailure.
 * `/v1/chat/completions` uses `chat` (an OpenAI-shaped answer, tool calls included) and `chatStream` when a kind
 * has them; for the others it wraps `complete`.
 */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  complete(target: ProviderTarget, call: ProviderCall): Promise<ProviderReply>;
  chat?(target: ProviderTarget, call: ChatCall): Promise<ChatCompletion>;
  /** Opens a stream: resolves once the upstream answered 2xx (its chunks not read yet). */
  chatStream?(target: ProviderTarget, call: ChatCall): Promise<ChatStream>;
}
