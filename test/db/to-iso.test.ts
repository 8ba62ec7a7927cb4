import { describe, expect, it } from 'vitest';
import { toIso } from '../../src/db/database.js';

describe('toIso', () => {
  it('rewrites PostgreSQL UTC timestamp text exactly as parsing it as a Date would', () => {
    for (const text of [
      '2026-11-28T04:17:07.123456+00:00',
      '2026-11-28T04:17:07+00:00',
      '2026-11-28 04:17:07.1+00',
      '2026-11-28T04:17:07.9999+00:00',
      '2026-11-28T04:17:07.100001+00:00',
      '2024-02-29T23:59:59.999999+00:00',
    ]) {
      const viaDate = new Date(text.replace(' ', 'T').replace(/\+00$/, '+00:00')).toISOString();
      expect(toIso(text), text).toBe(viaDate);
    }
  });

  it('parses other offsets and forms, and passes Date objects and nulls through', () => {
    expect(toIso('2026-11-28T06:17:07.123+02:00')).toBe('2026-11-28T04:17:07.123Z');
    expect(toIso('2026-11-28T04:17:07.5Z')).toBe('2026-11-28T04:17:07.500Z');
    expect(toIso(new Date(Date.UTC(2026, 10, 28, 4, 17, 7, 42)))).toBe('2026-11-28T04:17:07.042Z');
    expect(toIso(null)).toBeNull();
    expect(toIso(undefined)).toBeNull();
  });
});
