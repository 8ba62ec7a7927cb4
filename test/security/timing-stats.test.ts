import { describe, expect, it } from 'vitest';
import { mannWhitney, median, normalCdf, signTest } from './timing-stats.js';

describe('timing statistics', () => {
  it('normal CDF matches tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 3);
    expect(normalCdf(-3.2905)).toBeCloseTo(0.0005, 4);
  });

  it('median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('Mann-Whitney: textbook U and a clear shift is significant', () => {
    // Every a is larger than every b: U = n1·n2, delta = 1.
    const r = mannWhitney([10, 11, 12, 13, 14, 15, 16, 17], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.u).toBe(64);
    expect(r.cliffsDelta).toBe(1);
    expect(r.p).toBeLessThan(0.001);
    expect(r.medianDiff).toBe(9);
  });

  it('Mann-Whitney: interleaved samples from one distribution are not significant', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const a = Array.from({ length: 2000 }, () => 100 + random() * 20);
    const b = Array.from({ length: 2000 }, () => 100 + random() * 20);
    const r = mannWhitney(a, b);
    expect(r.p).toBeGreaterThan(0.01);
    expect(Math.abs(r.cliffsDelta)).toBeLessThan(0.05);
    // A 1 % shift on the same noise is found.
    const shifted = mannWhitney(
      a.map((x) => x + 1.2),
      b,
    );
    expect(shifted.p).toBeLessThan(0.001);
  });

  it('Mann-Whitney: ties get average ranks', () => {
    const r = mannWhitney([1, 1, 2], [1, 2, 2]);
    // Pairs a > b: (2 > 1) once; ties count ½: (1,1)×2, (2,2)×2 → 1 + 0.5·(2 + 2) = 3.
    expect(r.u).toBe(3);
    expect(r.cliffsDelta).toBeCloseTo((2 * 3) / 9 - 1, 10);
  });

  it('sign test: pairs cancel a shared burst, a consistent shift is found', () => {
    // Load bursts hit both members of a pair: huge common noise, no difference → not significant.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const burst = Array.from({ length: 3000 }, (_, i) => (Math.floor(i / 300) % 2 ? 200 : 0));
    const a = burst.map((b) => 100 + b + random() * 10);
    const b = burst.map((x) => 100 + x + random() * 10);
    const same = signTest(a, b);
    expect(same.p).toBeGreaterThan(0.01);
    expect(Math.abs(same.share - 0.5)).toBeLessThan(0.03);
    const shifted = signTest(
      a.map((x) => x + 1),
      b,
    );
    expect(shifted.p).toBeLessThan(0.001);
    expect(shifted.share).toBeGreaterThan(0.55);
    // 60 of 100 untied pairs slower: z = (10 − 0.5) / 5 = 1.9 → p ≈ 0.057.
    const sixty = signTest(
      Array.from({ length: 100 }, (_, i) => (i < 60 ? 2 : 0)),
      Array.from({ length: 100 }, () => 1),
    );
    expect(sixty.slower).toBe(60);
    expect(sixty.p).toBeCloseTo(0.0574, 3);
  });
});
