import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type StreamEvent, sseEvents } from './sse-reader.js';

/** Exit codes shared by every command (also printed by `agw --help`). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

/** Thrown for bad command lines; the dispatcher prints the message and usage and exits 2. */
export class UsageError extends Error {}

/** Options every remote command accepts. */
export const remoteOptions = {
  'api-base-url': { type: 'string' },
  'admin-token': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** `parseArgs` in strict mode: unknown flags and missing values become usage errors; empty values too. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  positionals = 0,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' && value.trim() === '') throw new UsageError(`--${name} needs a value`);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument: ${parsed.positionals.slice(positionals).join(' ')}`);
  }
  return parsed;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** A gateway the CLI talks to: base URL and admin token from flags, then env, then the local data dir. */
export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  static from(
    values: { 'api-base-url'?: string; 'admin-token'?: string },
    env: NodeJS.ProcessEnv,
  ): GatewayClient {
    const base = (values['api-base-url'] ?? env.API_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    try {
      new URL(base);
    } catch {
      throw new UsageError(`--api-base-url is not a URL: ${base}`);
    }
    let token = values['admin-token'] ?? env.ADMIN_API_TOKEN;
    if (!token) {
      const file = join(env.AGW_DATA_DIR ?? './.data', 'admin-token');
      if (existsSync(file)) token = readFileSync(file, 'utf8').trim();
    }
    return new GatewayClient(base, token);
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers['x-admin-token'] = this.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new UnreachableError(
        `cannot reach ${this.baseUrl}: ${(error as Error).cause ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // non-JSON body (e.g. /metrics): keep the text
    }
    return { status: response.status, body: parsed };
  }

  /** Reads a Server-Sent Events endpoint until the server ends the stream. */
  async *stream(path: string): AsyncGenerator<StreamEvent> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token) headers['x-admin-token'] = this.token;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { headers });
    } catch (error) {
      throw new UnreachableError(`cannot reach ${this.baseUrl}: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) throw new Error(`stream answered HTTP ${response.status}`);
    yield* sseEvents(response.body);
  }
}

export class UnreachableError extends Error {}

/** Prints an API error body as `CODE: message` (or the raw JSON with --json) and returns exit code 1. */
export function reportApiError(io: CliIo, response: ApiResponse, json: boolean): number {
  if (json) {
    io.out(JSON.stringify(response.body, null, 2));
  } else {
    const body = response.body as { error?: string; message?: string } | null;
    io.err(`HTTP ${response.status} ${body?.error ?? ''}: ${body?.message ?? JSON.stringify(response.body)}`);
  }
  return EXIT.failed;
}

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
