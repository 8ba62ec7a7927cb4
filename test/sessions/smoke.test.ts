import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRequest, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

describe('smoke', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());
  it('creates a session', async () => {
    const res = await adminRequest(t, 'POST', '/api/admin/agent-gateway/sessions', { channel: 'web' });
    expect(res.statusCode).toBe(201);
  });
});
