import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Embedded mode with no admin token configured: the admin API is never open, so a token is generated once into
 * `<dataDir>/admin-token` (mode 0600) and reused on later starts.
 */
export function loadOrCreateAdminToken(dataDir: string): { token: string; path: string; created: boolean } {
  const dir = resolve(dataDir);
  const path = join(dir, 'admin-token');
  mkdirSync(dir, { recursive: true });
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) return { token, path, created: false };
  }
  const token = `agw_${randomBytes(24).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { token, path, created: true };
}
