import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { censor, redactedHeaders, redactedKeys, redactLogObject } from './log-redaction.js';

describe('redactLogObject', () => {
  it('hides every secret header under req.headers and every secret key one level down', () => {
    const headers: Record<string, string> = Object.fromEntries(
      redactedHeaders.map((h) => [h, `value-of-${h}`]),
    );
    const line = {
      req: {
        method: 'POST',
        url: '/x',
        headers: { ...headers, 'content-type': 'application/json' } as Record<string, string>,
      },
      provider: Object.fromEntries(redactedKeys.map((k) => [k, `value-of-${k}`])),
      connector: { id: 'c1', secret: 's3' },
      msg: 'token',
    };
    const out = redactLogObject(line);
    const text = JSON.stringify(out);
    for (const h of redactedHeaders) expect(text).not.toContain(`value-of-${h}`);
    for (const k of redactedKeys) expect(text).not.toContain(`value-of-${k}`);
    expect(text).not.toContain('s3');
    expect(out.req).toMatchObject({
      method: 'POST',
      url: '/x',
      headers: { 'content-type': 'application/json' },
    });
    expect((out.req as { headers: Record<string, string> }).headers.authorization).toBe(censor);
    expect(out.connector).toEqual({ id: 'c1', secret: censor });
    expect(out.msg).toBe('token');
    // The caller's objects are untouched.
    expect(line.req.headers['authorization']).toBe('value-of-authorization');
    expect(line.connector.secret).toBe('s3');
  });

  it('returns the very same object when nothing is secret (no copy on the access log path)', () => {
    const line = { req: { method: 'GET', url: '/health' }, res: { statusCode: 200 }, responseTime: 1.2 };
    expect(redactLogObject(line)).toBe(line);
    const withHeaders = {
      req: { headers: { accept: '*/*' } },
      list: [{ token: 'in an array is not one level down' }],
    };
    expect(redactLogObject(withHeaders)).toBe(withHeaders);
  });

  it('keeps an Error an Error (message, stack, class) when it carries a secret key', () => {
    const error = Object.assign(new TypeError('boom'), { token: 'tok-123', code: 'E_X' });
    const out = redactLogObject({ err: error }).err as TypeError & { token: string; code: string };
    expect(out).toBeInstanceOf(TypeError);
    expect(out.message).toBe('boom');
    expect(out.stack).toBe(error.stack);
    expect(out.token).toBe(censor);
    expect(out.code).toBe('E_X');
    expect(error.token).toBe('tok-123');
  });

  it('a class instance keeps its prototype and getters (a Fastify request logged as req)', () => {
    class Request {
      constructor(readonly raw: { method: string; headers: Record<string, string> }) {}
      get method() {
        return this.raw.method;
      }
      get headers() {
        return this.raw.headers;
      }
    }
    const request = new Request({
      method: 'POST',
      headers: { authorization: 'Bearer sk-live', accept: '*/*' },
    });
    const out = redactLogObject({ req: request }).req as Request;
    expect(out).toBeInstanceOf(Request);
    expect(out.method).toBe('POST');
    expect(out.headers).toEqual({ authorization: censor, accept: '*/*' });
    expect(request.headers.authorization).toBe('Bearer sk-live');
  });

  it('as pino formatters.log, nothing secret reaches the output, in a child logger either', () => {
    const lines: string[] = [];
    const logger = pino(
      { formatters: { log: redactLogObject } },
      new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const child = logger.child({ reqId: 'req-1' });
    child.info({ req: { headers: { authorization: 'Bearer sk-live' } }, err: new Error('x') }, 'hello');
    logger.error({ provider: { apiKey: 'sk-provider' } }, 'failed');
    const text = lines.join('');
    expect(lines).toHaveLength(2);
    for (const secret of ['sk-live', 'sk-provider']) expect(text).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      reqId: 'req-1',
      msg: 'hello',
      req: { headers: { authorization: censor } },
    });
    expect(JSON.parse(lines[0]!).err.stack).toContain('Error: x');
    expect(JSON.parse(lines[1]!).pid).toBe(process.pid);
  });
});
