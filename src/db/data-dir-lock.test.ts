import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

const built = fileURLToPath(new URL('../../dist/db/data-dir-lock.js', import.meta.url));
const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'agw-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A pid no process has any more. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

/**
 * `count` processes try to lock `dir` at the same instant and hold what they get for a while: what each reports.
 * They load the built module (plain node starts in tens of milliseconds, so they really do race).
 */
async function race(dir: string, count: number): Promise<string[]> {
  const at = Date.now() + 2000;
  const code = `
    const { lockDataDir } = await import(${JSON.stringify(built)});
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ${at} - Date.now()));
    try {
      const release = lockDataDir(${JSON.stringify(dir)});
      process.stdout.write('locked');
      setTimeout(release, 1500);
    } catch (error) {
      process.stdout.write(error.name === 'DataDirLockedError' ? 'busy' : 'error: ' + error.message);
    }`;
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('error', reject);
          child.on('close', () => resolve(out));
        }),
    ),
  );
}

describe('data directory lock', () => {
  it('a lock held by a live process is refused, naming its pid; released, it can be taken', () => {
    const dir = freshDir();
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, 'agw.lock'), String(holder.pid));
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(`(pid ${holder.pid})`);
    } finally {
      holder.kill('SIGKILL');
    }
    rmSync(join(dir, 'agw.lock'));
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'agw.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    ['left by a dead process', () => String(deadPid())],
    ['empty', () => ''],
    ['unreadable as a pid', () => 'not a pid'],
  ])('a lock file %s is taken over, and nothing is left behind', (_what, content) => {
    const dir = freshDir();
    writeFileSync(join(dir, 'agw.lock'), content());
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'agw.lock'), 'utf8')).toBe(String(process.pid));
    expect(readdirSync(dir)).toEqual(['agw.lock']);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a takeover a dead process left half done does not stop the next start', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'agw.lock'), String(deadPid()));
    writeFileSync(join(dir, 'agw.lock.takeover'), String(deadPid()));
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'agw.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('release leaves a lock that is not its own alone', () => {
    const dir = freshDir();
    const release = lockDataDir(dir);
    writeFileSync(join(dir, 'agw.lock'), '1');
    release();
    expect(readFileSync(join(dir, 'agw.lock'), 'utf8')).toBe('1');
  });

  // Before the lock file appeared with its pid in it, a racer could read it empty and take it as stale; two that
  // took over the same stale lock could each delete the other's fresh one. Either way two processes opened PGlite.
  it.each([
    ['with no lock', false],
    ['over a stale lock', true],
  ])(
    'processes starting at the same instant %s: exactly one gets the lock',
    async (_what, stale) => {
      for (let round = 0; round < 2; round++) {
        const dir = freshDir();
        if (stale) writeFileSync(join(dir, 'agw.lock'), String(deadPid()));
        const outcomes = await race(dir, 6);
        expect(
          outcomes.filter((o) => o === 'locked'),
          outcomes.join(),
        ).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'busy')).toHaveLength(5);
        expect(readdirSync(dir)).toEqual([]);
      }
    },
    60_000,
  );
});
