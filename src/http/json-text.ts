import { AppError } from '../errors/app-error.js';

/** True when a string anywhere in the value (keys included) holds U+0000. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || holdsNul(inner));
  return false;
}

/**
 * Parses a request body. PostgreSQL cannot store U+0000 in text or jsonb, so a body whose strings hold one is
 * refused here as `INVALID_JSON` (400) rather than failing later inside a transaction. Only a body whose text
 * has the `\u0000` escape is walked.
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (text.includes('\\u0000') && holdsNul(value))
    throw new AppError(
      'INVALID_JSON',
      'The request body holds a NUL character (\\u0000) in a string; it cannot be stored.',
    );
  return value;
}
