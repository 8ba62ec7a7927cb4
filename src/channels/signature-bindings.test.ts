import { describe, expect, it } from 'vitest';
import { MemorySignatureBindings } from './signature-bindings.js';

describe('signature bindings in one process', () => {
  it('binds a signature to its first ids until the ttl ends', async () => {
    let now = 1_000_000;
    const bindings = new MemorySignatureBindings(() => now);
    expect(await bindings.bind('sig-a', '["c","e1"]', 10)).toBeNull();
    expect(await bindings.bind('sig-a', '["c","e1"]', 10)).toBeNull();
    expect(await bindings.bind('sig-a', '["c","e2"]', 10)).toBe('["c","e1"]');
    expect(await bindings.bind('sig-b', '["c","e2"]', 10)).toBeNull();
    now += 10_001;
    expect(await bindings.bind('sig-a', '["c","e2"]', 10)).toBeNull();
    expect(await bindings.bind('sig-a', '["c","e1"]', 10)).toBe('["c","e2"]');
  });

  it('stays bounded, dropping the oldest bindings first', async () => {
    const bindings = new MemorySignatureBindings(() => 0, 3);
    for (const sig of ['s1', 's2', 's3', 's4']) expect(await bindings.bind(sig, 'ids', 60)).toBeNull();
    // s1 made room for s4; s2..s4 are still bound.
    expect(await bindings.bind('s1', 'other', 60)).toBeNull();
    expect(await bindings.bind('s4', 'other', 60)).toBe('ids');
    expect((bindings as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(3);
  });
});
