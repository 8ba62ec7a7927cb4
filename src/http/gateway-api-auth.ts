import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../config/admin-tokens.js';
import type { GatewayApiKeyDefinition } from '../config/gateway-api-keys.js';
import { AppError } from '../errors/app-error.js';

/**
 * Checks `Authorization: Bearer <key>` for `/v1/*` against GATEWAY_API_KEYS. Like admin tokens: the presented key
 * is hashed and compared with every configured hash in constant time, without early exit.
 */
export class GatewayApiAuth {
  constructor(private readonly keys: readonly GatewayApiKeyDefinition[]) {}

  /** Returns the id of the matching key. */
  authenticate(header: string | string[] | undefined): string {
    if (this.keys.length === 0) {
      throw new AppError(
        'GATEWAY_API_KEYS_NOT_CONFIGURED',
        'No API keys are configured on this gateway; set GATEWAY_API_KEYS.',
      );
    }
    const value = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : '';
    const digest = sha256(value);
    let match: GatewayApiKeyDefinition | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.sha256) && match === undefined) match = key;
    }
    if (!value || !match) {
      throw new AppError(
        'GATEWAY_API_KEY_INVALID',
        'Missing or invalid API key (Authorization: Bearer <key>).',
      );
    }
    return match.id;
  }
}
