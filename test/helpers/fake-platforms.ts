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
  /** Do the work (the message is posted) and then answer with this instead: an answer lost on the way back. */
  afterPosting?: boolean;
}

/**
 * Local stand-ins for the Telegram Bot API (`/bot<token>/sendMessage`), Slack Web API (`/chat.postMessage`) and
 * Discord REST API (`/channels/<id>/messages`), speaking each platform's success and 429 shapes over real HTTP.
 */
export class FakePlatforms {
  readonly calls: RecordedCall[] = [];
  /** Messages that exist on the platform (what the chat shows), in the order they were posted. */
  readonly posted: RecordedCall[] = [];
  /** Discord messages created with `enforce_nonce`, by channel path + nonce: a repeat returns the first. */
  private readonly discordNonces = new Map<string, ScriptedResponse>();
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
        const call = { method: req.method ?? '', path, headers: req.headers, body, at: Date.now() };
        this.calls.push(call);
        const scripted = this.scripted.shift();
        const posted = !scripted || scripted.afterPosting ? this.post(call) : undefined;
        const answer = scripted ?? posted!;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The platform's side of a call that gets through: the message is posted (once per Discord nonce). */
  private post(call: RecordedCall): ScriptedResponse {
    const nonce = call.body.enforce_nonce === true ? call.body.nonce : undefined;
    const key = typeof nonce === 'string' || typeof nonce === 'number' ? `${call.path}#${nonce}` : undefined;
    const earlier = key === undefined ? undefined : this.discordNonces.get(key);
    if (earlier) return earlier;
    const answer = this.success(call.path, call.body);
    if (answer.status === 200) this.posted.push(call);
    if (key !== undefined && answer.status === 200) this.discordNonces.set(key, answer);
    return answer;
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
