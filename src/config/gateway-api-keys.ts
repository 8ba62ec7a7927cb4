import { parseHashedSecretEntry, sha256 } from './admin-tokens.js';

/** A key accepted by `/v1/*` (`Authorization: Bearer`). Only its SHA-256 is kept after config is read. */
export interface GatewayApiKeyDefinition {
  id: string;
  sha256: Buffer;
}

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
    const { id, sha256: digest } = parseHashedSecretEntry(entry, index, 'key', seen);
    return { id, sha256: digest };
  });
}
