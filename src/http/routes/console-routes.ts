import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.js';
import type { ConsoleAsset, ConsoleAssets } from '../console-assets.js';
import type { AppServer } from '../server.js';

/** Same-origin only: no CDN, no inline script or style, no framing. The console needs nothing else. */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function send(request: FastifyRequest, reply: FastifyReply, asset: ConsoleAsset) {
  reply
    .header('content-type', asset.contentType)
    .header('etag', asset.etag)
    .header('cache-control', 'no-cache')
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (asset.gzip && acceptsGzip) return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.body);
}

/**
 * `GET /admin`: the admin console (SPEC §12), static files built by `npm run build` into `dist/console`. The page
 * itself is public; every API call it makes carries the operator's `x-admin-token`.
 */
export function registerConsoleRoutes(app: AppServer, assets: ConsoleAssets): void {
  const notBuilt = () =>
    new AppError(
      'ADMIN_CONSOLE_NOT_BUILT',
      'The admin console is not built in this install; run `npm run build` and restart.',
    );

  app.get('/admin', { schema: { hide: true } }, async (request, reply) => {
    const index = assets.get('index.html');
    if (!index) throw notBuilt();
    return send(request, reply, index);
  });

  app.get('/admin/assets/*', { schema: { hide: true } }, async (request, reply) => {
    if (!assets.available) throw notBuilt();
    const path = (request.params as { '*': string })['*'];
    const asset = assets.get(`assets/${path}`);
    if (!asset) throw new AppError('NOT_FOUND', `No console asset ${path}.`);
    return send(request, reply, asset);
  });
}
