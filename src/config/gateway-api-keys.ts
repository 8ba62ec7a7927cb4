import { sha256 } from './admin-tokens.js';

/** A key accepted by `/v1/*` (`Authorization: Bearer`). Only its SHA-256 is kept after config is read. */
export interface GatewayApiKeyDefinition {
  id: string;
  sha256: Buffer;
}

const idPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * `GATEWAY_API_KEYS`: a comma list of keys (ids `key-1`, `key-2`, …) or a JSON list of `{ id, key | sha256 }`.
 * Keys shorter than 16 characters are refused: they are bearer secrets.
 */
export function parseGatewayApiKeys(raw: string): GatewayApiKeyDefinition[] {
  const value = raw.trim();
  if (!value.startsWith('[')) {
    const keys = [
      ...new Set(
        value
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      ),
    ];
    return keys.map((key, index) => {
      if (key.length < 16) throw new Error(`key ${index + 1} must be at least 16 characters`);
      return { id: `key-${index + 1}`, sha256: sha256(key) };
    });
  }
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch (error) {
    throw new Error(`is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(list))
    throw new Error('must be a comma list of keys or a JSON array of { id, key | sha256 }');
  const seen = new Set<string>();
  return list.map((entry, index) => {
    const where = `entry ${index}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw new Error(`${where} must be an object`);
    const { id, key, sha256: digest, ...rest } = entry as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new Error(`${where} has unknown keys: ${unknown.join(', ')}`);
    if (typeof id !== 'string' || !idPattern.test(id))
      throw new Error(`${where}: id must match ${idPattern}`);
    if (seen.has(id)) throw new Error(`${where}: id "${id}" is used twice`);
    seen.add(id);
    if (typeof key === 'string' && digest === undefined) {
      if (key.length < 16) throw new Error(`${where} (${id}): key must be at least 16 characters`);
      return { id, sha256: sha256(key) };
    }
    if (typeof digest === 'string' && key === undefined) {
      if (!/^[0-9a-f]{64}$/i.test(digest))
        throw new Error(`${where} (${id}): sha256 must be 64 hex characters`);
      return { id, sha256: Buffer.from(digest, 'hex') };
    }
    throw new Error(`${where} (${id}): give exactly one of key or sha256`);
  });
}
