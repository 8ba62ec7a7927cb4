import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
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

/** A takeover is a few file operations: a takeover lock older than this was left by a crash, whoever has its pid now. */
const takeoverStaleMs = 10_000;
/** Where hard links are not supported the lock is created, then written: an empty one this young is being made. */
const creatingMs = 5000;
/** How long to keep trying while locks change hands (another process taking a stale lock over). */
const settleMs = 10_000;

/**
 * Takes an exclusive lock on the embedded data directory (PGlite is single-process). A lock left by a dead
 * process is taken over. Returns the release function.
 *
 * The lock file appears with its pid already in it (written to a private file, then hard-linked into place, which
 * fails if a lock exists), so no one reads a half-made lock as a stale one. Only the holder of a second,
 * short-lived lock (`agw.lock.takeover`, taken the same way) may remove a stale lock, after reading it again: while
 * the stale file exists nobody else can create one, so what it removes is what it checked, and two processes never
 * both take the same stale lock over. A takeover lock left by a crash is moved aside and removed only if what was
 * moved is the one judged stale (same inode). Pids are those of this host's pid namespace: two containers sharing
 * the directory through a volume cannot see each other's processes (see docs/architecture.md).
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'agw.lock');
  const takeover = `${file}.takeover`;
  const own = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(own, String(process.pid), { mode: 0o600 });
  try {
    const deadline = Date.now() + settleMs;
    while (Date.now() < deadline) {
      if (create(own, file)) {
        removeLeftovers(dir, own);
        return () => releaseIfOwn(file);
      }
      const holder = readLock(file);
      if (holder === undefined) continue; // released meanwhile
      if (holder.creating) {
        pause(10);
        continue;
      }
      if (isLive(holder.pid)) throw new DataDirLockedError(dir, holder.pid);
      if (!create(own, takeover)) {
        const taking = readLock(takeover);
        if (taking && !taking.creating && (!isLive(taking.pid) || taking.ageMs > takeoverStaleMs))
          removeIfSame(takeover, taking.ino, `${takeover}.${process.pid}.stale`);
        else pause(10); // another process is taking the stale lock over: see who ends up holding it
        continue;
      }
      try {
        const now = readLock(file);
        if (now && !now.creating) {
          if (isLive(now.pid)) throw new DataDirLockedError(dir, now.pid);
          rmSync(file, { force: true });
        }
      } finally {
        releaseIfOwn(takeover);
      }
    }
    throw new Error(
      `Could not lock ${file}: it kept changing hands for ${settleMs / 1000} s (see also ${takeover})`,
    );
  } finally {
    rmSync(own, { force: true });
  }
}

/**
 * A pid (NaN for a lock that holds none; 0 would name a process group) of a process that exists and is not this
 * one: a lock holding this process's pid was left by a former life (a container's pid 1).
 */
function isLive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates `to` holding what `from` holds, only if `to` does not exist: a hard link, or where the filesystem has
 * none (SMB shares, FAT, some FUSE mounts) an exclusive create and then the write.
 */
function create(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  }
  let fd: number;
  try {
    fd = openSync(to, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, readFileSync(from));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a lock file only while it holds this process's pid (nobody can replace it while it exists). */
function releaseIfOwn(file: string): void {
  if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
}

/**
 * Moves `file` aside and deletes it if it is the file judged stale (inode `ino`); one that replaced it meanwhile
 * (a live takeover) is put back.
 */
function removeIfSame(file: string, ino: number, aside: string): void {
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (statSync(aside).ino !== ino) create(aside, file);
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Private copies of the lock left by processes that crashed while locking: this one holds the lock now. */
function removeLeftovers(dir: string, own: string): void {
  for (const name of readdirSync(dir)) {
    const match = /^agw\.lock\.(\d+)\.[0-9a-f]+$/.exec(name);
    const path = join(dir, name);
    if (match && path !== own && !isLive(Number(match[1]))) rmSync(path, { force: true });
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface LockState {
  /** NaN when the file does not hold a pid (stale, unless `creating`). */
  pid: number;
  /** Empty and young: created without a hard link, its pid not written yet. */
  creating: boolean;
  ageMs: number;
  ino: number;
}

/** What a lock file holds; undefined when there is none. */
function readLock(file: string): LockState | undefined {
  let text: string;
  let stat: Stats;
  try {
    stat = statSync(file);
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const ageMs = Date.now() - stat.mtimeMs;
  const pid = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return {
    pid: pid > 0 ? pid : Number.NaN,
    creating: text === '' && ageMs < creatingMs,
    ageMs,
    ino: stat.ino,
  };
}
