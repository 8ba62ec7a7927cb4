/** Statistics for the token-timing check: two samples of response times, is one systematically slower? */

export interface Comparison {
  medianA: number;
  medianB: number;
  /** medianA − medianB. */
  medianDiff: number;
  /** Mann-Whitney U of sample A. */
  u: number;
  z: number;
  /** Two-sided p-value (normal approximation with tie correction). */
  p: number;
  /** Cliff's delta in [−1, 1]: P(a > b) − P(a < b); 0 means neither side tends to be slower. */
  cliffsDelta: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Mann-Whitney U test (rank-sum) of A against B, two-sided, plus medians and Cliff's delta. */
export function mannWhitney(a: readonly number[], b: readonly number[]): Comparison {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new Error('both samples need values');
  const all = [
    ...a.map((value) => ({ value, fromA: true })),
    ...b.map((value) => ({ value, fromA: false })),
  ].sort((x, y) => x.value - y.value);
  const n = all.length;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.value === all[i]!.value) j++;
    const rank = (i + j + 2) / 2; // average of ranks i+1 … j+1
    const ties = j - i + 1;
    tieTerm += ties ** 3 - ties;
    for (let k = i; k <= j; k++) if (all[k]!.fromA) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mean) / Math.sqrt(variance) : 0;
  const p = Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
  const medianA = median(a);
  const medianB = median(b);
  // U counts pairs with a > b (ties as ½), so delta = 2U/(n1 n2) − 1.
  return { medianA, medianB, medianDiff: medianA - medianB, u, z, p, cliffsDelta: (2 * u) / (n1 * n2) - 1 };
}

export interface PairedComparison {
  pairs: number;
  /** Pairs where A was slower / faster (ties dropped). */
  slower: number;
  faster: number;
  /** Share of untied pairs where A was slower: 0.5 means no tendency. */
  share: number;
  /** Median of the paired differences A − B. */
  medianDiff: number;
  /** Two-sided sign-test p-value (normal approximation with continuity correction). */
  p: number;
}

/**
 * Sign test on paired samples (a[i] and b[i] measured back to back): each pair sees the same machine load, so bursts
 * from other processes — which make consecutive samples correlated and an unpaired test overconfident — cancel out.
 */
export function signTest(a: readonly number[], b: readonly number[]): PairedComparison {
  if (a.length !== b.length || a.length === 0) throw new Error('paired samples of equal, non-zero length');
  const diffs = a.map((x, i) => x - b[i]!);
  const slower = diffs.filter((d) => d > 0).length;
  const faster = diffs.filter((d) => d < 0).length;
  const n = slower + faster;
  const z = n > 0 ? (Math.abs(slower - n / 2) - 0.5) / Math.sqrt(n / 4) : 0;
  return {
    pairs: a.length,
    slower,
    faster,
    share: n > 0 ? slower / n : 0.5,
    medianDiff: median(diffs),
    p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))),
  };
}
