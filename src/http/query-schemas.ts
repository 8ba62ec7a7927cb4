import { z } from 'zod';

/** An integer query parameter within bounds (query strings arrive as text). */
export function intParam(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/**
 * Free text to search for (trimmed, 1..`max` characters). PostgreSQL text cannot hold U+0000, so `%00` in it is a
 * 400 here rather than a failed statement.
 */
export function textParam(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((text) => !text.includes('\u0000'), 'must not contain a NUL character (%00)');
}

export const boolParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** A trimmed, lowercased identifier that must match `pattern`. */
export function idParam(pattern: RegExp, what: string) {
  return z.string().trim().toLowerCase().regex(pattern, `must be a valid ${what} (${pattern.source})`);
}

/** Opaque cursors: base64url JSON. Invalid input yields undefined so the caller answers 400. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, check: (value: unknown) => value is T): T | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
