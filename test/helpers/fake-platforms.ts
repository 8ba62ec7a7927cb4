import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** When the call arrived (ms since the epoch). */
  at: number;
}

interface ScriptedResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Local stand-ins for the Telegram Bot API (`/bot<token>/sendMessage`), Slack Web API (`/chat.postMessage`) and
 * Discord REST API (`/channels/<id>/messages`), speaking each platform's success and 429 shapes over real HTTP.
 */
export class FakePlatforms {
  readonly calls: RecordedCall[] = [];
  private readonly scripted: ScriptedResponse[] = [];
  private server: Server | undefined;
  url = '';

  /** The next `responses.length` calls get these answers instead of a success. */
  script(...responses: ScriptedResponse[]): void {
    this.scripted.push(...responses);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          body = {};
        }
        const path = req.url ?? '';
        this.calls.push({ method: req.method ?? '', path, headers: req.headers, body, at: Date.now() });
        const scripted = this.scripted.shift();
        const answer = scripted ?? this.success(path, body);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private success(path: string, body: Record<string, unknown>): ScriptedResponse {
    const n = this.calls.length;
    if (/^\/bot[^/]+\/sendMessage$/.test(path))
      return {
        status: 200,
        body: { ok: true, result: { message_id: 1000 + n, chat: { id: body.chat_id } } },
      };
    if (path === '/chat.postMessage')
      return {
        status: 200,
        body: { ok: true, channel: body.channel, ts: `1700000000.${String(n).padStart(6, '0')}` },
      };
    if (/^\/channels\/\d+\/messages$/.test(path))
      return { status: 200, body: { id: String(900000000000000000n + BigInt(n)), content: body.content } };
    return { status: 404, body: { ok: false, error: 'unknown_method' } };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
