import type { IncomingMessage } from 'node:http';
import type { Dialect } from './mock-responses.js';

/** Which API a request speaks, from its method and path (Gemini puts the model in the path). */
export function route(
  method: string | undefined,
  path: string,
): { dialect: Dialect; model?: string; stream?: boolean } | undefined {
  if (method !== 'POST') return undefined;
  if (/\/chat\/completions$/.test(path)) return { dialect: 'openai' };
  if (/\/messages$/.test(path)) return { dialect: 'anthropic' };
  const gemini = /\/models\/([^/:]+):generateContent$/.exec(path);
  if (gemini) return { dialect: 'gemini', model: decodeURIComponent(gemini[1] ?? '') };
  const geminiStream = /\/models\/([^/:]+):streamGenerateContent$/.exec(path);
  if (geminiStream)
    return { dialect: 'gemini', model: decodeURIComponent(geminiStream[1] ?? ''), stream: true };
  if (/\/generic$/.test(path)) return { dialect: 'generic' };
  return undefined;
}

/** The last message's text (the mock's default answer echoes it). */
export function promptOf(dialect: Dialect, body: Record<string, unknown>): string {
  if (dialect === 'gemini') {
    const contents = body.contents as { parts?: { text?: string }[] }[] | undefined;
    return (
      contents
        ?.at(-1)
        ?.parts?.map((p) => p.text ?? '')
        .join('') ?? ''
    );
  }
  if (dialect === 'generic' && typeof body.input === 'string') return body.input;
  const messages = (dialect === 'generic' ? body.input : body.messages) as
    | { content?: unknown }[]
    | undefined;
  const content = messages?.at(-1)?.content;
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

/** The key a request presented: Bearer, `x-api-key` or `x-goog-api-key`. */
export function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7);
  const key = req.headers['x-api-key'] ?? req.headers['x-goog-api-key'];
  return typeof key === 'string' ? key : undefined;
}
