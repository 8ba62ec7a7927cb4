import { AppError } from '../errors/app-error.js';

/** True when a string anywhere in the value (keys included) fails the test. */
function anyString(value: unknown, bad: (text: string) => boolean): boolean {
  if (typeof value === 'string') return bad(value);
  if (Array.isArray(value)) return value.some((inner) => anyString(inner, bad));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).some(([key, inner]) => bad(key) || anyString(inner, bad));
  return false;
}

const holdsNul = (text: string): boolean => text.includes('\u0000');
const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const lonelySurrogate = (text: string): boolean => UNPAIRED.test(text);

/**
 * Parses a request body. PostgreSQL cannot store U+0000 in text or jsonb, nor a UTF-16 surrogate escape that is
 * not part of a pair (`"\ud800"` alone), so a body whose strings hold either is refused here as `INVALID_JSON`
 * (400) rather than failing later inside a transaction. Raw UTF-8 bytes can carry neither (invalid sequences
 * decode to U+FFFD), so only a body whose text has the matching `\u` escape is walked.
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (text.includes('\\u0000') && anyString(value, holdsNul))
    throw new AppError(
      'INVALID_JSON',
      'The request body holds a NUL character (\\u0000) in a string; it cannot be stored.',
    );
  if (/\\u[dD][89a-fA-F]/.test(text) && anyString(value, lonelySurrogate))
    throw new AppError(
      'INVALID_JSON',
      'The request body holds an unpaired UTF-16 surrogate escape (\\ud800–\\udfff) in a string; it cannot be stored.',
    );
  return value;
}
