import { describe, expect, it } from 'vitest';
import { sha256 } from '../config/admin-tokens.js';
import { parseGatewayApiKeys } from '../config/gateway-api-keys.js';
import { GatewayApiAuth } from './gateway-api-auth.js';

const key = 'sk-app-0123456789abcdef';

describe('GATEWAY_API_KEYS and Bearer checks', () => {
  it('reads a comma list or a JSON list of { id, key | sha256 }, and refuses short keys', () => {
    expect(parseGatewayApiKeys(`${key}, ${key}x`).map((k) => k.id)).toEqual(['key-1', 'key-2']);
    const json = parseGatewayApiKeys(
      JSON.stringify([
        { id: 'app', key },
        { id: 'ci', sha256: sha256('sk-ci-0123456789abcdef').toString('hex') },
      ]),
    );
    expect(json.map((k) => k.id)).toEqual(['app', 'ci']);
    expect(() => parseGatewayApiKeys('short')).toThrow(/at least 16/);
    expect(() => parseGatewayApiKeys('[{"id":"a","key":"x","extra":1}]')).toThrow(/unknown keys/);
  });

  it('answers 503 when no key is configured, 401 for a missing or wrong key, the key id when it matches', () => {
    expect(() => new GatewayApiAuth([]).authenticate(`Bearer ${key}`)).toThrow(
      expect.objectContaining({ code: 'GATEWAY_API_KEYS_NOT_CONFIGURED', status: 503 }),
    );
    const auth = new GatewayApiAuth(parseGatewayApiKeys(JSON.stringify([{ id: 'app', key }])));
    for (const header of [undefined, '', 'Bearer', `Basic ${key}`, `Bearer ${key}x`]) {
      expect(() => auth.authenticate(header)).toThrow(
        expect.objectContaining({ code: 'GATEWAY_API_KEY_INVALID', status: 401 }),
      );
    }
    expect(auth.authenticate(`Bearer ${key}`)).toBe('app');
    expect(auth.authenticate(`bearer  ${key} `)).toBe('app');
  });
});
