import crypto, { createHash } from 'node:crypto';

export const adminScopes = ['read', 'operate', 'admin'] as const;
export type AdminScope = (typeof adminScopes)[number];

/** A configured admin token. Only the SHA-256 of the token is kept in memory after config is read. */
export interface AdminTokenDefinition {
  id: string;
  sha256: Buffer;
  scopes: AdminScope[];
}

// One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object: this runs on every authenticated request.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

export function sha256(value: string): Buffer {
  return oneShot ? oneShot('sha256', value, 'buffer') : createHash('sha256').update(value, 'utf8').digest();
}

const idPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * One entry of a JSON list of secrets — `{ id, <secretField> | sha256, ...extra }` — shared by `ADMIN_API_TOKENS`
 * and `GATEWAY_API_KEYS`: a unique id, exactly one of the secret (≥ 16 characters) or its hex SHA-256, no keys
 * besides `extra`. Returns the id, the SHA-256 and the extra fields; errors name the entry and the field.
 */
export function parseHashedSecretEntry(
  entry: unknown,
  index: number,
  secretField: 'token' | 'key',
  seen: Set<string>,
  extra: readonly string[] = [],
): { id: string; sha256: Buffer; where: string; fields: Record<string, unknown> } {
  const where = `entry ${index}`;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    throw new Error(`${where} must be an object`);
  const { id, [secretField]: secret, sha256: digest, ...rest } = entry as Record<string, unknown>;
  const unknown = Object.keys(rest).filter((key) => !extra.includes(key));
  if (unknown.length > 0) throw new Error(`${where} has unknown keys: ${unknown.join(', ')}`);
  if (typeof id !== 'string' || !idPattern.test(id)) throw new Error(`${where}: id must match ${idPattern}`);
  if (seen.has(id)) throw new Error(`${where}: id "${id}" is used twice`);
  seen.add(id);
  if (typeof secret === 'string' && digest === undefined) {
    if (secret.length < 16)
      throw new Error(`${where} (${id}): ${secretField} must be at least 16 characters`);
    return { id, sha256: sha256(secret), where, fields: rest };
  }
  if (typeof digest === 'string' && secret === undefined) {
    if (!/^[0-9a-f]{64}$/i.test(digest))
      throw new Error(`${where} (${id}): sha256 must be 64 hex characters`);
    return { id, sha256: Buffer.from(digest, 'hex'), where, fields: rest };
  }
  throw new Error(`${where} (${id}): give exactly one of ${secretField} or sha256`);
}

/** Validates the `ADMIN_API_TOKENS` JSON list: `[{ id, token | sha256, scopes }]`. */
export function parseAdminTokenList(value: unknown): AdminTokenDefinition[] {
  if (!Array.isArray(value)) throw new Error('must be a JSON array of { id, token | sha256, scopes }');
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const {
      id,
      sha256: hash,
      where,
      fields,
    } = parseHashedSecretEntry(entry, index, 'token', seen, ['scopes']);
    const { scopes } = fields;
    if (!Array.isArray(scopes) || scopes.length === 0)
      throw new Error(`${where} (${id}): scopes must be a non-empty list`);
    for (const scope of scopes) {
      if (!adminScopes.includes(scope as AdminScope)) {
        throw new Error(`${where} (${id}): unknown scope "${String(scope)}" (read, operate, admin)`);
      }
    }
    return { id, sha256: hash, scopes: [...new Set(scopes as AdminScope[])] };
  });
}
