import type { AdminScope } from '../config/admin-tokens.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { AdminPrincipal } from './admin-auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Admin scope this route needs; routes without it are public (health, ingest with its own signature). */
    scope?: AdminScope;
    /** Audit action name; set on every admin mutation. */
    audit?: string;
    /** Error codes for validation failures of this route, by part of the request. */
    validationCodes?: Partial<Record<'body' | 'querystring' | 'params' | 'headers', ErrorCode>>;
  }
  interface FastifyRequest {
    /** The exact bytes of a JSON body, kept for signature checks. */
    rawBody?: Buffer;
    admin?: AdminPrincipal;
  }
}
