import type { ChannelWebhooks } from '../../channels/channel-webhooks.js';
import type { IngestPipeline } from '../../channels/ingest-pipeline.js';
import type { Platform } from '../../config/ingest-settings.js';
import { toAppError } from '../error-handler.js';
import type { AppServer } from '../server.js';

export interface IngestRouteDeps {
  pipeline: IngestPipeline;
  webhooks: ChannelWebhooks;
  /** Size cap of every ingest body, enforced by the HTTP server before the handler runs (413). */
  maxBodyBytes: number;
}

const platforms: Platform[] = ['telegram', 'slack', 'discord'];

/**
 * `POST /api/agent-gateway/adapters/ingest` and the native platform webhooks. No admin token: each request proves
 * itself with a signature over the raw bytes, so these routes live in their own scope whose body parser keeps the
 * bytes unparsed (any content type) for the pipeline to verify before it parses anything.
 */
export async function registerIngestRoutes(app: AppServer, deps: IngestRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Refused before any handler runs (size cap, unreadable body): still counted, under the bounded `_unknown` key.
    scope.addHook('onError', async (request, _reply, error) => {
      if (request.rawBody === undefined && (error as { code?: string }).code?.startsWith('FST_ERR_CTP_'))
        deps.pipeline.countRejection(undefined, false, toAppError(error, request));
    });
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes },
      (request, body, done) => {
        request.rawBody = body as Buffer;
        done(null, undefined);
      },
    );

    scope.post(
      '/api/agent-gateway/adapters/ingest',
      {
        bodyLimit: deps.maxBodyBytes,
        schema: {
          tags: ['ingest'],
          summary:
            'Signed ingest: HMAC-SHA256 over "<x-gateway-timestamp>.<raw body>" (x-gateway-signature: v1=<hex>)',
        },
      },
      async (request, reply) => {
        const result = await deps.pipeline.ingestSigned({
          rawBody: request.rawBody,
          headers: request.headers,
          query: request.query as Record<string, unknown>,
        });
        return reply.status(result.applied ? 201 : 200).send(result);
      },
    );

    for (const platform of platforms) {
      scope.post(
        `/api/agent-gateway/channels/${platform}/:connectorId`,
        {
          bodyLimit: deps.maxBodyBytes,
          schema: { tags: ['ingest'], summary: `Native ${platform} webhook (platform signature)` },
        },
        async (request, reply) => {
          const { connectorId } = request.params as { connectorId: string };
          const answer = await deps.webhooks.handle(platform, {
            connectorId,
            rawBody: request.rawBody,
            headers: request.headers,
          });
          return reply.status(answer.status).send(answer.body);
        },
      );
    }
  });
}
