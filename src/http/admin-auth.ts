import { timingSafeEqual } from 'node:crypto';
import { type AdminScope, type AdminTokenDefinition, sha256 } from '../config/admin-tokens.js';
import { AppError } from '../errors/app-error.js';

const scopeRank: Record<AdminScope, number> = { read: 1, operate: 2, admin: 3 };

export interface AdminPrincipal {
  tokenId: string;
  scopes: AdminScope[];
}

/**
 * Checks `x-admin-token` against configured tokens. The presented token is hashed and compared with every
 * configured hash in constant time (no early exit), so timing reveals neither which token nor how much matched.
 * Scopes are ordered: `admin` includes `operate`, which includes `read`.
 */
export class AdminAuth {
  constructor(private readonly tokens: readonly AdminTokenDefinition[]) {}

  get configured(): boolean {
    return this.tokens.length > 0;
  }

  authenticate(presented: string | string[] | undefined): AdminPrincipal {
    if (!this.configured) {
      throw new AppError(
        'ADMIN_TOKEN_NOT_CONFIGURED',
        'No admin token is configured on this gateway; set ADMIN_API_TOKEN.',
      );
    }
    const value = Array.isArray(presented) ? undefined : presented?.trim();
    const digest = sha256(value ?? '');
    let match: AdminTokenDefinition | undefined;
    for (const token of this.tokens) {
      if (timingSafeEqual(digest, token.sha256) && match === undefined) match = token;
    }
    if (!value || !match) throw new AppError('ADMIN_TOKEN_INVALID', 'Missing or invalid x-admin-token.');
    return { tokenId: match.id, scopes: match.scopes };
  }

  static allows(principal: AdminPrincipal, needed: AdminScope): boolean {
    return principal.scopes.some((scope) => scopeRank[scope] >= scopeRank[needed]);
  }
}
