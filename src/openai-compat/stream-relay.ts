import type { ChatCall, ChatChunk, ChatCompletion, ChatStream } from '../providers/chat-completion.js';
import { badResponse, contentPolicyFailure } from '../providers/failure-classification.js';
import { ProviderFailure } from '../providers/provider.js';
import type { AttemptAnswer, AttemptContext } from '../runtime/chain-plan.js';
import type { Clock } from '../runtime/clock.js';

/** A stream that produced its first content chunk: nothing has been sent to the client yet. */
export interface OpenedStream {
  stream: ChatStream;
  /** Chunks up to and including the first one with content (role chunk first, usually). */
  prelude: ChatChunk[];
  watchdog: IdleWatchdog | null;
}

/** Where the relay writes: SSE on the client's response (formatting is the HTTP layer's). */
export interface StreamSink {
  /** Sends one chunk; resolves when the client can take more (backpressure). */
  write(chunk: ChatChunk): Promise<void> | undefined;
  /** Sends an error event and ends the response: the answer the client has is incomplete. */
  fail(failure: ProviderFailure): void;
  /** Sends `data: [DONE]` and ends the response. */
  end(): void;
  /** True once the client went away. */
  readonly closed: boolean;
}

/**
 * Fires when an upstream has been silent (no bytes) for `idleMs`. One timer per stream re-armed lazily: a byte only
 * stores a timestamp, so a fast stream costs no timer churn.
 */
export class IdleWatchdog {
  private last: number;
  private cancel: (() => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.last = clock.now();
  }

  /** Lowers the limit from now on; a running timer is re-armed to the new limit. */
  limit(ms: number): void {
    if (ms >= this.idleMs) return;
    this.idleMs = ms;
    if (!this.cancel) return;
    this.cancel();
    this.arm(Math.max(0, ms - (this.clock.now() - this.last)));
  }

  readonly touch = (): void => {
    this.last = this.clock.now();
  };

  start(): void {
    this.arm(this.idleMs);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  private arm(ms: number): void {
    this.cancel = this.clock.setTimer(ms, () => {
      const quiet = this.clock.now() - this.last;
      if (quiet >= this.idleMs) {
        this.cancel = null;
        this.onIdle();
      } else this.arm(this.idleMs - quiet);
    });
  }
}

function stalled(provider: string, idleMs: number): ProviderFailure {
  return new ProviderFailure({
    code: 'AI_PROVIDER_TIMEOUT',
    retryable: false,
    message: `${provider} stream stalled: no bytes for ${idleMs} ms; the stream was aborted`,
  });
}

/** Why a stream that ended before any content failed: the content filter, or an empty answer. */
function endedEmpty(provider: string, prelude: ChatChunk[]): ProviderFailure {
  if (prelude.some((chunk) => chunk.finishReason === 'content_filter')) {
    return contentPolicyFailure(provider, `withheld the answer (finish_reason content_filter)`);
  }
  return badResponse(provider, 'the stream ended before any content');
}

/**
 * One streaming attempt, up to its first content chunk (the runner's attempt timer is the time-to-first-token
 * limit). Kinds without `chatStream` answer in one piece, replayed as a stream. Any failure here may fail over.
 */
export async function openStreamAttempt(
  context: AttemptContext,
  call: Omit<ChatCall, 'signal' | 'onBytes'>,
  clock: Clock,
  idleMs: number,
  completeOnce: (context: AttemptContext) => Promise<ChatCompletion>,
): Promise<AttemptAnswer<OpenedStream>> {
  const { adapter, target, signal } = context;
  let stream: ChatStream | undefined;
  let watchdog: IdleWatchdog | null = null;
  if (adapter.chatStream) {
    watchdog = new IdleWatchdog(clock, idleMs, () => stream?.close(stalled(target.provider, idleMs)));
    stream = await adapter.chatStream(target, {
      role: call.role,
      request: call.request,
      signal,
      onBytes: watchdog.touch,
    });
    watchdog.start();
  } else {
    stream = completionAsStream(await completeOnce(context));
  }
  const prelude: ChatChunk[] = [];
  try {
    for (;;) {
      const chunk = await stream.next();
      if (chunk === null) throw endedEmpty(target.provider, prelude);
      prelude.push(chunk);
      if (chunk.content) break;
    }
  } catch (error) {
    watchdog?.stop();
    stream.close(error as Error);
    throw error;
  }
  const named = prelude.find((chunk) => typeof chunk.json.model === 'string' && chunk.json.model)?.json.model;
  return { value: { stream, prelude, watchdog }, model: typeof named === 'string' ? named : target.model };
}

/** How long an upstream that sent every finish_reason may take for its usage chunk and `[DONE]`. */
export const AFTER_FINISH_GRACE_MS = 1000;

/** Which choices have started and which have finished (`n` > 1 streams interleave them by `index`). */
class ChoiceTracker {
  private readonly open = new Set<number>();
  private readonly done = new Set<number>();

  see(chunk: ChatChunk): void {
    const choices = chunk.json.choices;
    if (!Array.isArray(choices)) return;
    for (const choice of choices as { index?: unknown; finish_reason?: unknown }[]) {
      const index = typeof choice?.index === 'number' ? choice.index : 0;
      if (choice?.finish_reason) {
        this.open.delete(index);
        this.done.add(index);
      } else if (!this.done.has(index)) this.open.add(index);
    }
  }

  /** Every choice that started has its finish_reason: the answer is complete. */
  get finished(): boolean {
    return this.done.size > 0 && this.open.size === 0;
  }
}

/**
 * Sends a committed stream to the client. After the first byte there is no failover: a break, a stall or a
 * malformed chunk ends the response with an error event, and so does an upstream that ends before a finish_reason,
 * with or without `[DONE]` (a truncated answer never ends as a clean finish). Once every choice has its
 * finish_reason the answer is complete: the upstream then gets a short grace for its usage chunk and `[DONE]`, and
 * one that closes, stalls or breaks instead is finalised at once as a success. Resolves with the failure, if any,
 * for the attempt's record.
 */
export async function relayStream(
  opened: OpenedStream,
  sink: StreamSink,
  provider: string,
  includeUsage: boolean,
): Promise<ProviderFailure | null> {
  const { stream, watchdog } = opened;
  const choices = new ChoiceTracker();
  const send = async (chunk: ChatChunk) => {
    choices.see(chunk);
    if (choices.finished) watchdog?.limit(AFTER_FINISH_GRACE_MS);
    if (chunk.usage && !includeUsage && (chunk.json.choices as unknown[] | undefined)?.length === 0) return;
    const draining = sink.write(chunk);
    if (!draining) return;
    // A slow client is not a stalled upstream: the idle limit pauses while we wait for the client to drain.
    watchdog?.stop();
    await draining;
    watchdog?.touch();
    watchdog?.start();
  };
  try {
    for (const chunk of opened.prelude) await send(chunk);
    for (;;) {
      const chunk = await stream.next();
      if (chunk === null) break;
      await send(chunk);
    }
  } catch (error) {
    watchdog?.stop();
    if (sink.closed) return null; // the client left; the provider did nothing wrong
    const failure =
      error instanceof ProviderFailure
        ? error
        : badResponse(provider, (error as Error)?.message ?? 'stream failed');
    stream.close(failure);
    if (choices.finished) {
      sink.end();
      return null;
    }
    sink.fail(failure);
    return failure;
  }
  watchdog?.stop();
  if (choices.finished) {
    sink.end();
    return null;
  }
  const truncated = badResponse(
    provider,
    stream.sawDone
      ? 'the stream sent [DONE] before a finish_reason (truncated answer)'
      : 'the stream ended before a finish_reason (truncated answer)',
  );
  sink.fail(truncated);
  return truncated;
}

/** A complete answer replayed as chunks: role, content (and tool calls), finish, usage. */
export function completionAsStream(completion: ChatCompletion): ChatStream {
  const body = completion.body;
  const choice = (body.choices as Record<string, unknown>[] | undefined)?.[0] ?? {};
  const message = (choice.message as Record<string, unknown> | undefined) ?? {};
  const base = {
    id: body.id,
    object: 'chat.completion.chunk',
    created: body.created,
    model: completion.model,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null, content: boolean): ChatChunk => ({
    json: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] },
    raw: null,
    content,
    finishReason: finish,
    usage: null,
  });
  const toolCalls = Array.isArray(message.tool_calls)
    ? (message.tool_calls as Record<string, unknown>[]).map((call, index) => ({ index, ...call }))
    : undefined;
  const chunks: ChatChunk[] = [
    chunk({ role: 'assistant', content: '' }, null, false),
    chunk({ content: message.content ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, null, true),
    chunk({}, typeof choice.finish_reason === 'string' ? choice.finish_reason : 'stop', false),
  ];
  if (completion.usage && body.usage) {
    chunks.push({
      json: { ...base, choices: [], usage: body.usage },
      raw: null,
      content: false,
      finishReason: null,
      usage: completion.usage,
    });
  }
  return {
    sawDone: true,
    next: async () => chunks.shift() ?? null,
    close: () => {
      chunks.length = 0;
    },
  };
}
