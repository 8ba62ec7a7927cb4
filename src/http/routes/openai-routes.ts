import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { ChatCompletions } from '../../openai-compat/chat-completions.js';
import { parseChatInput } from '../../openai-compat/chat-request.js';
import type { StreamSink } from '../../openai-compat/stream-relay.js';
import type { ChatChunk } from '../../providers/chat-completion.js';
import { AttemptSignal, type ProviderFailure } from '../../providers/provider.js';
import { toAppError } from '../error-handler.js';
import type { GatewayApiAuth } from '../gateway-api-auth.js';
import { openAiStreamError, sendOpenAiError } from '../openai-errors.js';
import type { AppServer } from '../server.js';

const tags = ['openai'];
const security = [{ gatewayApiKey: [] }];

/** SSE on the raw response: one `data:` line per chunk, backpressure honoured, `[DONE]` or an error event last. */
class SseSink implements StreamSink {
  closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly provider: string,
  ) {
    res.on('close', () => {
      if (!res.writableEnded) this.closed = true;
    });
    // A write racing the client's disconnect must not become an unhandled 'error' event.
    res.on('error', () => {
      this.closed = true;
    });
  }

  write(chunk: ChatChunk): Promise<void> | undefined {
    if (this.closed) return undefined;
    if (this.res.write(`data: ${chunk.raw ?? JSON.stringify(chunk.json)}\n\n`)) return undefined;
    return new Promise((resolve) => {
      this.res.once('drain', resolve);
      this.res.once('close', resolve);
    });
  }

  fail(failure: ProviderFailure): void {
    if (!this.closed) this.res.end(`data: ${JSON.stringify(openAiStreamError(failure, this.provider))}\n\n`);
  }

  end(): void {
    if (!this.closed) this.res.end('data: [DONE]\n\n');
  }
}

/**
 * Aborted when the client goes away before its answer is complete (the run stops, the upstream is closed). An
 * AttemptSignal (EventEmitter) rather than an AbortController: one is made per request, and it is much cheaper.
 */
function clientGone(reply: FastifyReply): AttemptSignal {
  const signal = new AttemptSignal();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) signal.abort(new Error('the client went away'));
  });
  return signal;
}

async function chatCompletion(chat: ChatCompletions, request: FastifyRequest, reply: FastifyReply) {
  const input = parseChatInput(request.body);
  const signal = clientGone(reply);
  if (!input.stream) {
    const answer = await chat.complete(input, signal);
    return reply
      .header('x-agw-provider', answer.provider)
      .header('x-agw-attempts', String(answer.attempts))
      .type('application/json; charset=utf-8')
      .send(answer.completion.raw ?? JSON.stringify(answer.completion.body));
  }
  // Failover happens inside openStream, before anything is sent: its errors are plain JSON errors.
  const stream = await chat.openStream(input, signal);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-agw-provider': stream.provider,
    'x-agw-attempts': String(stream.attempts),
  });
  const sink = new SseSink(res, stream.provider);
  res.once('close', () => {
    if (sink.closed) stream.cancel();
  });
  await stream.relay(sink);
}

/**
 * `/v1/chat/completions` and `/v1/models` (OpenAI-compatible), behind gateway API keys. Errors under `/v1` use
 * OpenAI's error shape instead of the admin API's, so OpenAI clients raise their usual error classes.
 */
export function registerOpenAiRoutes(app: AppServer, deps: { chat: ChatCompletions; auth: GatewayApiAuth }) {
  app.register(
    async (v1) => {
      v1.setErrorHandler((error, request, reply) => {
        const appError = toAppError(error, request);
        if (appError.status >= 500 && appError.code === 'INTERNAL_ERROR')
          request.log.error({ err: error, code: appError.code }, 'request failed');
        return sendOpenAiError(reply, appError);
      });
      v1.setNotFoundHandler((request, reply) =>
        sendOpenAiError(
          reply,
          new AppError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
        ),
      );
      v1.addHook('onRequest', async (request) => {
        deps.auth.authenticate(request.headers.authorization);
      });

      v1.get(
        '/models',
        { schema: { tags, security, summary: 'Roles and provider ids usable as `model`' } },
        async () => deps.chat.models(),
      );

      v1.post(
        '/chat/completions',
        {
          schema: {
            tags,
            security,
            summary: 'OpenAI-compatible chat completion (JSON or SSE) through role chains with failover',
            description:
              '`model`: a role (`critic`, `role:critic`), a provider id, or any other name for AI_RUNTIME_DEFAULT_UPSTREAM; `fallbacks: [model…]` appends routes. Headers `x-agw-provider`, `x-agw-attempts`.',
          },
        },
        (request, reply) => chatCompletion(deps.chat, request, reply),
      );
    },
    { prefix: '/v1' },
  );
}
