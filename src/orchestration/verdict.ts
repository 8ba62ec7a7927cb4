export interface Verdict {
  verdict: 'merge' | 'reject';
  confidence: number | null;
  reason: string | null;
}

const linePattern =
  /verdict\s*[:=]\s*"?(merge|reject)"?(?:[\s,;]+confidence\s*[:=]\s*"?([01](?:\.\d+)?)"?)?/gi;

/**
 * Reads the judge's decision: the last `verdict: merge|reject [confidence: x]` in the output (prompt echoes come
 * first), or a JSON object `{ "verdict": …, "confidence": … }`. Anything else is a `reject` with a reason.
 */
export function parseVerdict(output: string | null | undefined): Verdict {
  if (!output) return { verdict: 'reject', confidence: null, reason: 'judge produced no output' };
  const matches = [...output.matchAll(linePattern)];
  const last = matches.at(-1);
  if (last) {
    const confidence = last[2] === undefined ? null : Number(last[2]);
    return {
      verdict: last[1]!.toLowerCase() as Verdict['verdict'],
      confidence: confidence !== null && confidence >= 0 && confidence <= 1 ? confidence : null,
      reason: null,
    };
  }
  const json = output.match(/\{[^{}]*"verdict"[^{}]*\}/);
  if (json) {
    try {
      const parsed = JSON.parse(json[0]) as { verdict?: unknown; confidence?: unknown };
      if (parsed.verdict === 'merge' || parsed.verdict === 'reject') {
        const c =
          typeof parsed.confidence === 'number' && parsed.confidence >= 0 && parsed.confidence <= 1
            ? parsed.confidence
            : null;
        return { verdict: parsed.verdict, confidence: c, reason: null };
      }
    } catch {
      // fall through: unparseable
    }
  }
  return { verdict: 'reject', confidence: null, reason: 'unparseable verdict in judge output' };
}
