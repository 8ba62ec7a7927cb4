/** Small value parsers for settings. Each throws an Error whose message says what is wrong with the value. */

export type Parser<T> = (raw: string) => T;

export function text(options: { pattern?: RegExp; maxLength?: number } = {}): Parser<string> {
  return (raw) => {
    const value = raw.trim();
    if (options.maxLength !== undefined && value.length > options.maxLength) {
      throw new Error(`must be at most ${options.maxLength} characters`);
    }
    if (options.pattern && !options.pattern.test(value)) throw new Error(`must match ${options.pattern}`);
    return value;
  };
}

export function integer(options: { min: number; max: number }): Parser<number> {
  return (raw) => {
    const value = raw.trim();
    if (!/^-?\d+$/.test(value)) throw new Error(`must be an integer, got "${value}"`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < options.min || n > options.max) {
      throw new Error(`must be between ${options.min} and ${options.max}, got ${value}`);
    }
    return n;
  };
}

export function boolean(): Parser<boolean> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw new Error(`must be true or false, got "${raw}"`);
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(value))
      throw new Error(`must be one of ${values.join(', ')}`);
    return value as T;
  };
}

export function url(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    const value = raw.trim();
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Error('must be a URL');
    }
    if (!protocols.includes(parsed.protocol)) throw new Error(`must use ${protocols.join(' or ')}`);
    return value;
  };
}

export function csv(item: Parser<string> = text()): Parser<string[]> {
  return (raw) => {
    const out: string[] = [];
    for (const part of raw.split(',')) {
      if (part.trim() === '') continue;
      const value = item(part);
      if (!out.includes(value)) out.push(value);
    }
    return out;
  };
}

/** Parses JSON and hands the value to `validate`, which returns the typed value or throws. */
export function json<T>(validate: (value: unknown) => T): Parser<T> {
  return (raw) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new Error(`is not valid JSON (${(error as Error).message})`);
    }
    return validate(value);
  };
}
