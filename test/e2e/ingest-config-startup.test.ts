import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/processes.js';

// Runbook Notes: "Invalid profile JSON fails fast on API startup."
describe('the server refuses to start with invalid ingest configuration', () => {
  it('exits 78 naming the variable and the connector, before opening any store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agw-ingest-config-'));
    try {
      const result = await run('node', ['dist/main.js'], {
        PATH: process.env.PATH,
        AGW_DATA_DIR: dataDir,
        PORT: '0',
        AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES:
          '{"telegram_main":{"adapter":"carrier_pigeon","channel":"telegram"}}',
        AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES: '{"slack_main":{"riskLevel":"reckless"}}',
      });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(
        'AGENT_GATEWAY_INGEST_CONNECTOR_PROFILES connector "telegram_main": unknown adapter "carrier_pigeon"',
      );
      expect(result.stderr).toContain(
        'AGENT_GATEWAY_INGEST_CONNECTOR_POLICIES connector "slack_main": riskLevel',
      );
      expect(result.stdout).not.toContain('listening');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
