import { describe, expect, it } from 'vitest';
import { parseVerdict } from './verdict.js';

describe('parseVerdict', () => {
  it('reads the last verdict line with confidence', () => {
    expect(parseVerdict('end with verdict: <merge|reject>\n…\nverdict: merge confidence: 0.80')).toEqual({
      verdict: 'merge',
      confidence: 0.8,
      reason: null,
    });
    expect(parseVerdict('Verdict: REJECT, confidence=0.3')).toEqual({
      verdict: 'reject',
      confidence: 0.3,
      reason: null,
    });
    expect(parseVerdict('verdict: merge')).toEqual({ verdict: 'merge', confidence: null, reason: null });
  });

  it('accepts a JSON verdict', () => {
    expect(parseVerdict('{"verdict":"merge","confidence":0.9}')).toEqual({
      verdict: 'merge',
      confidence: 0.9,
      reason: null,
    });
  });

  it('treats anything else as reject with a reason', () => {
    expect(parseVerdict('looks good to me')).toMatchObject({
      verdict: 'reject',
      reason: expect.stringContaining('unparseable'),
    });
    expect(parseVerdict('')).toMatchObject({ verdict: 'reject', reason: expect.any(String) });
    expect(parseVerdict('verdict: maybe')).toMatchObject({ verdict: 'reject' });
    expect(parseVerdict('verdict: merge confidence: 7')).toEqual({
      verdict: 'merge',
      confidence: null,
      reason: null,
    });
  });
});
