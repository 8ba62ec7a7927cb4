import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Thrown when another live process holds the embedded data directory. */
export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `The data directory ${dir} is in use by another gateway process (pid ${pid}). ` +
        'Stop it, or point AGW_DATA_DIR elsewhere, or set DATABASE_URL to share a PostgreSQL server.',
    );
    this.name = 'DataDirLockedError';
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock on the embedded data directory (PGlite is single-process). A lock left by a dead
 * process is taken over. Returns the release function.
 *
 * The lock file appears with its pid already in it (written to a private file, then hard-linked into place, which
 * fails if a lock exists), so no one ever reads a half-made lock as a stale one. Only the holder of a second,
 * short-lived lock (`agw.lock.takeover`, taken the same way) may remove a stale lock, after reading it again: while
 * the stale file exists nobody else can create one, so what it removes is what it checked, and two processes never
 * both take the same stale lock over.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'agw.lock');
  const takeover = `${file}.takeover`;
  const own = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(own, String(process.pid), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (tryLink(own, file)) return () => releaseIfOwn(file);
      const holder = readPid(file);
      if (holder === undefined) continue; // released meanwhile
      if (isLive(holder)) throw new DataDirLockedError(dir, holder);
      if (!tryLink(own, takeover)) {
        const taking = readPid(takeover);
        // A process that died mid-takeover leaves its takeover lock behind.
        if (taking !== undefined && !isLive(taking)) rmSync(takeover, { force: true });
        else pause(10); // another process is taking the stale lock over: see who ends up holding it
        continue;
      }
      try {
        const now = readPid(file);
        if (now !== undefined && isLive(now)) throw new DataDirLockedError(dir, now);
        rmSync(file, { force: true });
      } finally {
        releaseIfOwn(takeover);
      }
    }
    throw new Error(`Could not lock ${file}: it kept changing hands`);
  } finally {
    rmSync(own, { force: true });
  }
}

/** Not a pid this process holds, and a process that exists (a lock holding this pid was left by a former life). */
function isLive(pid: number): boolean {
  return pid !== process.pid && isAlive(pid);
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Removes a lock file only while it holds this process's pid (nobody can replace it while it exists). */
function releaseIfOwn(file: string): void {
  if (readPid(file) === process.pid) rmSync(file, { force: true });
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The pid in a lock file; NaN for an unreadable one (a lock from before pids were linked in whole counts as stale). */
function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : Number.NaN;
}
