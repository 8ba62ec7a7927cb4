import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.js';
import { repoRoot } from '../helpers/processes.js';

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
/** Makes a file look `seconds` old. */
const age = (file: string, seconds: number) => {
  const then = Date.now() / 1000 - seconds;
  utimesSync(file, then, then);
};

/**
 * `count` processes try to lock `dir` at the same instant: what each reports. A winner holds the lock until every
 * one has answered. They load the built module (plain node starts in tens of milliseconds, so they really race).
 */
async function race(dir: string, count: number): Promise<string[]> {
  const at = Date.now() + 2000;
  const code = `
    const { lockDataDir } = await import(${JSON.stringify(join(repoRoot, 'dist/db/data-dir-lock.js'))});
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, ${at} - Date.now()));
    try {
      const release = lockDataDir(${JSON.stringify(dir)});
      process.stdout.write('locked');
      process.stdin.on('end', release).resume();
    } catch (error) {
      process.stdout.write(error.name === 'DataDirLockedError' ? 'busy' : 'error: ' + error.message);
    }`;
  const children: ChildProcessByStdio<Writable, Readable, null>[] = [];
  const outcomes = Array.from(
    { length: count },
    () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(child);
        child.stdout.once('data', (d) => resolve(String(d)));
        child.on('error', reject);
        child.on('close', () => resolve('exited without an answer'));
      }),
  );
  try {
    return await Promise.all(outcomes);
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined);
            child.once('close', resolve);
            child.stdin.end();
          }),
      ),
    );
  }
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
    ['holding this process’s own pid (a former life in a container)', () => String(process.pid)],
    ['empty, and old', () => ''],
    ['unreadable as a pid', () => 'not a pid'],
  ])('a lock file %s is taken over, and nothing is left behind', (_what, content) => {
    const dir = freshDir();
    writeFileSync(join(dir, 'agw.lock'), content());
    age(join(dir, 'agw.lock'), 60);
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'agw.lock'), 'utf8')).toBe(String(process.pid));
    expect(readdirSync(dir)).toEqual(['agw.lock']);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an empty lock just created (no hard links: the pid is written next) is waited for, not taken', () => {
    const dir = freshDir();
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, 'agw.lock'), '');
      // Its creator writes its pid a moment later.
      spawn(process.execPath, [
        '-e',
        `setTimeout(() => require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'agw.lock'))}, '${holder.pid}'), 300)`,
      ]);
      expect(() => lockDataDir(dir)).toThrow(`(pid ${holder.pid})`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it.each([
    ['its pid dead', () => String(deadPid()), 0],
    ['its pid reused by a live process, but long past any takeover', () => String(process.ppid), 60],
  ])('a takeover a crash left half done (%s) does not stop the next start', (_what, content, seconds) => {
    const dir = freshDir();
    writeFileSync(join(dir, 'agw.lock'), String(deadPid()));
    writeFileSync(join(dir, 'agw.lock.takeover'), content());
    age(join(dir, 'agw.lock.takeover'), seconds);
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'agw.lock'), 'utf8')).toBe(String(process.pid));
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a crashed locker's private copy is cleaned up by the next holder; a live one's is not", () => {
    const dir = freshDir();
    const live = `agw.lock.${process.ppid}.abcd`;
    writeFileSync(join(dir, `agw.lock.${deadPid()}.0123abcd`), '1');
    writeFileSync(join(dir, live), String(process.ppid));
    const release = lockDataDir(dir);
    expect(readdirSync(dir).sort()).toEqual(['agw.lock', live]);
    release();
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
        expect(
          outcomes.filter((o) => o === 'busy'),
          outcomes.join(),
        ).toHaveLength(5);
        expect(readdirSync(dir)).toEqual([]);
      }
    },
    60_000,
  );
});
