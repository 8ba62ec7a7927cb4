import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { presentedKey, promptOf, route } from './mock-requests.js';
import {
  type Dialect,
  errorBody,
  estimateTokens,
  geminiBlockedBody,
  streamEncoder,
  successBody,
  withFinish,
} from './mock-responses.js';
import {
  errorStatus,
  type MockBehaviour,
  type MockScript,
  outcomeOf,
  resolveBehaviour,
} from './mock-script.js';

export interface MockProviderOptions {
  port?: number;
  host?: string;
  script?: MockScript;
  /** Clock for `phases` and request timestamps (tests share virtual time with the gateway). */
  now?: () => number;
}

/** One request as the mock saw it: tests assert attempt counts and the gaps between retries. */
export interface MockRequestRecord {
  /** 1-based request number overall. */
  n: number;
  model: string;
  dialect: Dialect;
  stream: boolean;
  /** When it arrived (the `now` clock, ms). */
  at: number;
  /** What the mock did: `ok`, `status 429`, `reset`, `hang`, `stream-cut`, … */
  outcome: string;
  /** True when the client closed the connection before the mock finished answering. */
  clientAborted: boolean;
}

const maxLog = 10_000;

/** What the mock has seen; tests assert on it (e.g. that a timed-out request's connection was closed). */
export interface MockProviderStats {
  requests: number;
  byModel: Record<string, number>;
  /** Requests whose connection the client closed before the mock finished answering. */
  clientAborts: number;
  /** Headers of the last request (tests check that keys are sent where the vendor expects them). */
  lastHeaders: Record<string, string | string[] | undefined>;
  lastBody: unknown;
  /** Every request (the latest 10,000), in arrival order. */
  log: MockRequestRecord[];
}

export interface MockProvider {
  url: string;
  stats: MockProviderStats;
  /** Emits `request` ({ model, dialect }) and `client-abort` ({ model }). */
  events: EventEmitter;
  /** Replaces the script (counts keep going; `phases` start again from now). */
  setScript(script: MockScript): void;
  /** The requests for one model, in order. */
  seen(model: string): MockRequestRecord[];
  close(): Promise<void>;
}

/**
 * `agw mock-provider`: a local OpenAI (JSON + SSE) / Anthropic Messages / Gemini generateContent / generic JSON fake
 * with scripted latency and faults, for tests, demos and benchmarks.
 */
export async function startMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  let script: MockScript = options.script ?? {};
  const now = options.now ?? Date.now;
  let scriptSetAt = now();
  const events = new EventEmitter();
  const stats: MockProviderStats = {
    requests: 0,
    byModel: {},
    clientAborts: 0,
    lastHeaders: {},
    lastBody: null,
    log: [],
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 60_000;

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/__mock/requests') {
      const { requests, byModel, clientAborts, log } = stats;
      return sendJson(res, 200, { requests, byModel, clientAborts, log });
    }
    const target = route(req.method, path);
    if (!target) return sendJson(res, 404, { error: { message: `no mock route ${req.method} ${path}` } });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, errorBody(target.dialect, 400, undefined));
    }
    const model = target.model ?? (typeof body.model === 'string' ? body.model : 'unknown');
    if (target.stream) body.stream = true;
    stats.requests += 1;
    stats.byModel[model] = (stats.byModel[model] ?? 0) + 1;
    stats.lastHeaders = req.headers;
    stats.lastBody = body;
    const behaviour = resolveBehaviour(
      script,
      model,
      stats.requests,
      stats.byModel[model],
      now() - scriptSetAt,
    );
    const record: MockRequestRecord = {
      n: stats.requests,
      model,
      dialect: target.dialect,
      stream: body.stream === true,
      at: now(),
      outcome: outcomeOf(behaviour),
      clientAborted: false,
    };
    stats.log.push(record);
    if (stats.log.length > maxLog) stats.log.shift();
    let finished = false;
    res.on('finish', () => {
      finished = true;
    });
    res.on('close', () => {
      if (!finished && behaviour.fault !== 'reset' && behaviour.streamCutAfter === undefined) {
        stats.clientAborts += 1;
        record.clientAborted = true;
        events.emit('client-abort', { model });
      }
    });
    events.emit('request', { model, dialect: target.dialect });
    if (script.requireApiKey !== undefined && presentedKey(req) !== script.requireApiKey) {
      return sendJson(res, 401, errorBody(target.dialect, 401, 'auth'));
    }
    const go = () => answer(req, res, target.dialect, model, body, behaviour);
    if (behaviour.latencyMs) {
      const timer = setTimeout(go, behaviour.latencyMs);
      res.on('close', () => clearTimeout(timer));
    } else go();
  }

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    dialect: Dialect,
    model: string,
    body: Record<string, unknown>,
    b: MockBehaviour,
  ) {
    if (res.destroyed) return;
    if (b.fault === 'hang') return;
    if (b.fault === 'reset') {
      req.socket.destroy();
      return;
    }
    const status = errorStatus(b);
    const headers: Record<string, string> = {};
    if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
    if (dialect === 'gemini' && b.error === 'content_policy' && b.status === undefined) {
      return sendJson(res, 200, geminiBlockedBody());
    }
    if (status !== undefined && status >= 300)
      return sendJson(
        res,
        status,
        errorBody(dialect, status, b.error, b.message?.replaceAll('{apiKey}', presentedKey(req) ?? '')),
        headers,
      );
    if (b.fault === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices": [{"message": {"content": "trunc');
      return;
    }
    const prompt = promptOf(dialect, body);
    const text = b.fault === 'empty' ? '' : (b.text ?? `Mock answer from ${model}: ${prompt.slice(0, 80)}`);
    if (dialect !== 'generic' && b.finishReason && body.stream !== true)
      return sendJson(
        res,
        200,
        withFinish(dialect, successBody(dialect, model, text, estimateTokens(prompt)), b.finishReason),
      );
    if (body.stream === true && dialect !== 'generic')
      return stream(res, dialect, model, text, estimateTokens(prompt), body, b);
    sendJson(res, 200, successBody(dialect, model, text, estimateTokens(prompt)), headers);
  }

  function stream(
    res: ServerResponse,
    dialect: Dialect,
    model: string,
    text: string,
    promptTokens: number,
    body: Record<string, unknown>,
    b: MockBehaviour,
  ): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const pieces = text.match(/\S+\s*/g) ?? [];
    const includeUsage =
      (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const encoder = streamEncoder(dialect, model, promptTokens, includeUsage);
    const write = (events: string) => res.write(b.multiLineData ? multiLine(events) : events);
    const opening = encoder.start();
    if (opening) write(opening);
    let sent = 0;
    const next = () => {
      if (res.destroyed) return;
      if (b.streamCutAfter !== undefined && sent >= b.streamCutAfter) return void res.socket?.destroy();
      if (b.stallAfter !== undefined && sent >= b.stallAfter) return;
      if (sent < pieces.length) {
        sent += 1;
        if (b.malformedChunkAt === sent)
          res.write('data: {"id": "broken", "choices": [{"delta": {"content": \n\n');
        else write(encoder.piece(pieces[sent - 1] ?? ''));
        setTimeout(next, b.chunkDelayMs ?? 0);
        return;
      }
      if (!b.omitFinish) write(encoder.finish(b.finishReason ?? 'stop', pieces.length));
      if (b.holdAfterFinish) return;
      res.end(encoder.end(b.omitDone === true));
    };
    setTimeout(next, b.firstTokenDelayMs ?? 0);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    stats,
    events,
    setScript(next) {
      script = next;
      scriptSetAt = now();
    },
    seen(model) {
      return stats.log.filter((r) => r.model === model);
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Rewrites each `data: <json>` line as the same JSON pretty-printed over one `data:` line per line. */
function multiLine(events: string): string {
  return events.replace(/^data: (\{.*\})$/gm, (_line, json: string) =>
    JSON.stringify(JSON.parse(json), null, 1)
      .split('\n')
      .map((line) => `data: ${line}`)
      .join('\n'),
  );
}
