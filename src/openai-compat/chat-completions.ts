import { AppError } from '../errors/app-error.js';
import { type ChatCompletion, completionBody, plainMessages } from '../providers/chat-completion.js';
import { badResponse } from '../providers/failure-classification.js';
import type { CallSignal, ProviderCall, ProviderFailure } from '../providers/provider.js';
import type { AiRuntime } from '../runtime/ai-runtime.js';
import type { AttemptContext, ChainOutcome } from '../runtime/chain-plan.js';
import type { RunAttempt } from '../runtime/chain-runner.js';
import type { ChatInput } from './chat-request.js';
import { listModels, resolveModelRoutes } from './model-routes.js';
import { type OpenedStream, openStreamAttempt, relayStream, type StreamSink } from './stream-relay.js';

/** A non-streaming answer and how it was reached. */
export interface ChatAnswer {
  completion: ChatCompletion;
  provider: string;
  /** Upstream calls made (retries included, routes skipped by an open circuit not). */
  attempts: number;
}

/** A stream that has its first token: send the headers, then `relay`. */
export interface CommittedStream {
  provider: string;
  model: string;
  attempts: number;
  /** Streams everything to the sink and records how the answering attempt ended. */
  relay(sink: StreamSink): Promise<void>;
  /** Closes the upstream (the client went away). */
  cancel(): void;
}

const tries = (attempts: RunAttempt[]) => attempts.filter((a) => a.status !== 'skipped_cooldown').length;

/** Reasons that belong to the request itself: the caller must see them, not whatever a fallback said after. */
const requestReasons = new Set(['context_length_exceeded', 'content_policy']);

/**
 * The error of a call no route answered. A context-length or content-policy rejection wins (it is about the request
 * and would be masked by a fallback's outage), then any other rejected request, then the last failure; when every
 * route was skipped by its circuit the call is unavailable.
 */
export function chainError(outcome: ChainOutcome<unknown>): AppError {
  const failed = outcome.attempts.filter((a) => a.status === 'failed');
  const chosen =
    failed.find((a) => a.errorCode === 'AI_PROVIDER_BAD_REQUEST' && requestReasons.has(a.reason ?? '')) ??
    failed.find((a) => a.errorCode === 'AI_PROVIDER_BAD_REQUEST') ??
    failed.at(-1);
  const headers = { 'x-agw-attempts': String(tries(outcome.attempts)) };
  if (!chosen) {
    const skipped = outcome.attempts.length;
    return new AppError(
      outcome.deadlineExceeded ? 'AI_PROVIDER_TIMEOUT' : 'AI_PROVIDER_UNAVAILABLE',
      skipped > 0
        ? `Every route is cooling down after recent failures (${skipped} skipped); retry later.`
        : 'No provider could be tried for this model.',
      { headers, details: { attempts: 0 } },
    );
  }
  return new AppError(
    chosen.errorCode ?? 'AI_PROVIDER_ERROR',
    chosen.errorMessage ?? 'The provider call failed.',
    {
      headers: { ...headers, 'x-agw-provider': chosen.provider },
      details: {
        provider: chosen.provider,
        reason: chosen.reason,
        httpStatus: chosen.httpStatus,
        attempts: tries(outcome.attempts),
        deadlineExceeded: outcome.deadlineExceeded,
      },
    },
  );
}

/**
 * `/v1/chat/completions` and `/v1/models` over the AI runtime: the model names routes, the chain runner tries them
 * (circuits, retries, Retry-After, deadline, attempt hook: exactly as role runs), adapters speak each vendor.
 */
export class ChatCompletions {
  constructor(private readonly runtime: AiRuntime) {}

  models() {
    return listModels(this.runtime.definition);
  }

  async complete(input: ChatInput, signal?: CallSignal): Promise<ChatAnswer> {
    const { role, routes } = resolveModelRoutes(this.runtime.definition, input.model, input.fallbacks);
    const outcome = await this.runtime.runChain<ChatCompletion>({ role, routes, signal }, async (context) => {
      const completion = await this.completeOnce(context, input, role ?? 'v1');
      return { value: completion, model: completion.model };
    });
    if (!outcome.answer) throw chainError(outcome);
    await outcome.settle();
    return {
      completion: outcome.answer.value,
      provider: outcome.answer.provider,
      attempts: tries(outcome.attempts),
    };
  }

  /**
   * Opens a stream with failover until the first content chunk (each attempt limited by the time-to-first-token and
   * the idle limits). Throws the chain's error when no route produced a token: nothing has been sent yet.
   */
  async openStream(input: ChatInput, signal?: CallSignal): Promise<CommittedStream> {
    const { role, routes } = resolveModelRoutes(this.runtime.definition, input.model, input.fallbacks);
    const settings = this.runtime.definition.settings;
    const ttft = Math.min(settings.ttftTimeoutMs, settings.attemptTimeoutMs);
    const call = { role: role ?? 'v1', request: input.request };
    const outcome = await this.runtime.runChain<OpenedStream>(
      { role, routes, signal, attemptTimeoutMs: ttft },
      (context) =>
        openStreamAttempt(context, call, this.runtime.clock, settings.streamIdleTimeoutMs, (c) =>
          this.completeOnce(c, input, call.role),
        ),
    );
    const answer = outcome.answer;
    if (!answer) throw chainError(outcome);
    return {
      provider: answer.provider,
      model: answer.model,
      attempts: tries(outcome.attempts) + 1,
      cancel: () => answer.value.stream.close(new Error('the client closed the stream')),
      relay: async (sink) => {
        let failure: ProviderFailure | null = null;
        try {
          failure = await relayStream(answer.value, sink, answer.provider, input.includeUsage);
        } finally {
          await outcome.settle(failure ?? undefined);
        }
      },
    };
  }

  /** One non-streaming attempt: the kind's `chat`, or its text `complete` wrapped as a `chat.completion`. */
  private async completeOnce(
    context: AttemptContext,
    input: ChatInput,
    role: string,
  ): Promise<ChatCompletion> {
    const { adapter, target, signal } = context;
    if (adapter.chat) return adapter.chat(target, { role, request: input.request, signal });
    const params = input.request.params;
    const maxTokens = params.max_completion_tokens ?? params.max_tokens;
    const call: ProviderCall = { role, messages: plainMessages(input.request.messages), signal };
    if (typeof maxTokens === 'number') call.maxOutputTokens = maxTokens;
    const reply = await adapter.complete(target, call);
    if (reply.output.trim() === '') throw badResponse(target.provider, 'empty output');
    const message = { role: 'assistant', content: reply.output };
    return {
      body: completionBody(reply.model, message, 'stop', reply.usage),
      raw: null,
      model: reply.model,
      usage: reply.usage,
    };
  }
}
