import { readFileSync } from 'node:fs';

/** Kinds of vendor error bodies the mock can answer with. */
export const mockErrors = [
  'context_length_exceeded',
  'content_policy',
  'rate_limit',
  'auth',
  'overloaded',
  'server',
] as const;
export type MockError = (typeof mockErrors)[number];

/** What the mock does with one request. Every field is optional; the empty behaviour answers normally. */
export interface MockBehaviour {
  /** Delay before the response starts. */
  latencyMs?: number;
  /** Error status (the body is the vendor's error shape; `error` picks the wording). */
  status?: number;
  /** Retry-After header, in seconds. */
  retryAfter?: number;
  error?: MockError;
  /** Error message override; `{apiKey}` is replaced by the key the request presented (vendors quote keys back). */
  message?: string;
  /** `reset`: destroy the socket; `hang`: never answer; `malformed`: broken JSON; `empty`: a valid reply with no text. */
  fault?: 'reset' | 'hang' | 'malformed' | 'empty';
  /** Reply text (default: `Mock answer from <model>: <prompt start>`). */
  text?: string;
  /** SSE: delay before the first content chunk. */
  firstTokenDelayMs?: number;
  /** SSE: delay between chunks. */
  chunkDelayMs?: number;
  /** SSE: destroy the socket after this many content chunks. */
  streamCutAfter?: number;
  /** SSE: stop sending (keep the connection open) after this many content chunks. */
  stallAfter?: number;
  /** SSE: the n-th content chunk (1-based) is not valid JSON. */
  malformedChunkAt?: number;
  /** SSE: end the stream without `data: [DONE]`. */
  omitDone?: boolean;
  /** SSE: end the stream without the finish_reason chunk (then `[DONE]` unless `omitDone`): a truncated answer. */
  omitFinish?: boolean;
  /** SSE: after the finish (and usage) keep the connection open, sending nothing more. */
  holdAfterFinish?: boolean;
  /** The finish_reason to report (default `stop`); `content_filter` with `text: ''` is a withheld answer. */
  finishReason?: string;
  /** SSE: each event's JSON pretty-printed over several `data:` lines (valid SSE: a reader joins them with `\n`). */
  multiLineData?: boolean;
}

/** A behaviour for a stretch of time; the last phase (no `forMs`) lasts forever. */
export interface MockPhase {
  forMs?: number;
  behaviour: MockBehaviour;
}

/**
 * Scripted behaviour: per model name (one behaviour, or a list used by per-model request count, the last one
 * repeating), else a global sequence by request count, else model-name conventions, else `default`.
 */
export interface MockScript {
  default?: MockBehaviour;
  models?: Record<string, MockBehaviour | MockBehaviour[]>;
  sequence?: MockBehaviour[];
  /** Per model, behaviours by elapsed time since the script was set (`down 60 s, then healthy`); wins over `models`. */
  phases?: Record<string, MockPhase[]>;
  /** When set, requests must carry this key (Bearer, x-api-key or x-goog-api-key) or get the vendor's 401. */
  requireApiKey?: string;
}

/**
 * Model names that script themselves, for demos without a script file: `mock-status-503`, `mock-rate-limit-2`,
 * `mock-latency-250`, `mock-hang`, `mock-reset`, `mock-malformed`, `mock-empty`, `mock-context-length`,
 * `mock-content-policy`, `mock-auth`, `mock-overloaded`, `mock-stream-cut`, `mock-stall`, `mock-no-done`,
 * `mock-no-finish`, `mock-hold-after-finish`.
 */
export function behaviourFromModelName(model: string): MockBehaviour | undefined {
  const status = /^mock-status-(\d{3})$/.exec(model);
  if (status) return { status: Number(status[1]) };
  const rate = /^mock-rate-limit-(\d+)$/.exec(model);
  if (rate) return { error: 'rate_limit', retryAfter: Number(rate[1]) };
  const latency = /^mock-latency-(\d+)$/.exec(model);
  if (latency) return { latencyMs: Number(latency[1]) };
  const named: Record<string, MockBehaviour> = {
    'mock-hang': { fault: 'hang' },
    'mock-reset': { fault: 'reset' },
    'mock-malformed': { fault: 'malformed' },
    'mock-empty': { fault: 'empty' },
    'mock-context-length': { error: 'context_length_exceeded' },
    'mock-content-policy': { error: 'content_policy' },
    'mock-auth': { error: 'auth' },
    'mock-overloaded': { error: 'overloaded' },
    'mock-stream-cut': { streamCutAfter: 2 },
    'mock-stall': { stallAfter: 2 },
    'mock-no-done': { omitDone: true },
    'mock-no-finish': { omitFinish: true },
    'mock-hold-after-finish': { holdAfterFinish: true },
  };
  return named[model];
}

/**
 * Picks the behaviour for the n-th request overall and the m-th for its model (both 1-based), `elapsedMs` after the
 * script was set.
 */
export function resolveBehaviour(
  script: MockScript,
  model: string,
  n: number,
  m: number,
  elapsedMs = 0,
): MockBehaviour {
  const phases = script.phases?.[model];
  if (phases?.length) {
    let start = 0;
    for (const phase of phases) {
      if (phase.forMs === undefined || elapsedMs < start + phase.forMs) return phase.behaviour;
      start += phase.forMs;
    }
    return phases.at(-1)?.behaviour ?? {};
  }
  const byModel = script.models?.[model];
  if (Array.isArray(byModel)) return byModel[Math.min(m, byModel.length) - 1] ?? {};
  if (byModel) return byModel;
  if (script.sequence?.length) return script.sequence[Math.min(n, script.sequence.length) - 1] ?? {};
  return behaviourFromModelName(model) ?? script.default ?? {};
}

/** Reads a script file (JSON). Throws with the path in the message when it is unreadable or not an object. */
export function readMockScript(path: string): MockScript {
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(
      `${path}: a mock script is a JSON object { default?, models?, phases?, sequence?, requireApiKey? }`,
    );
  }
  return value as MockScript;
}

/** Status each scripted error answers with, unless `status` says otherwise. */
export function errorStatus(behaviour: MockBehaviour): number | undefined {
  if (behaviour.status !== undefined) return behaviour.status;
  switch (behaviour.error) {
    case 'context_length_exceeded':
    case 'content_policy':
      return 400;
    case 'rate_limit':
      return 429;
    case 'auth':
      return 401;
    case 'overloaded':
      return 529;
    case 'server':
      return 500;
    default:
      return undefined;
  }
}

/** A short label of what a behaviour does, for the request log. */
export function outcomeOf(b: MockBehaviour): string {
  const status = errorStatus(b);
  if (b.fault) return b.fault;
  if (status !== undefined && status >= 300) return `status ${status}`;
  if (b.streamCutAfter !== undefined) return 'stream-cut';
  if (b.stallAfter !== undefined) return 'stall';
  if (b.malformedChunkAt !== undefined) return 'malformed-chunk';
  if (b.omitFinish) return 'no-finish';
  if (b.holdAfterFinish) return 'hold-after-finish';
  if (b.omitDone) return 'no-done';
  return 'ok';
}
