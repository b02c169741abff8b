// A pid lock file so only one process at a time opens the embedded PGlite directory.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Thrown when another live process (or this one) already has the embedded database open. */
export class EmbeddedDatabaseLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database is already open in process ${pid} (lock file ${lockFile}). ` +
        'Only one Twofold server can use a data directory: stop the other one, use another DATA_DIR, ' +
        'or set DATABASE_URL to use a real Postgres. If that process is not Twofold, delete the lock file.',
    );
    this.name = 'EmbeddedDatabaseLockedError';
  }
}

// Locks this process holds. Process-wide on purpose: a lock file belongs to a process, and a pid equal to
// ours is either an open of our own (refuse) or a stale file from an earlier process that had our pid,
// which is common in containers where the server is always pid 1 (take over).
const heldByThisProcess = new Set<string>();

/** Takes the lock file (replacing a stale one whose process is gone) and returns its release function; throws EmbeddedDatabaseLockedError when a live process holds it. */
export async function acquireLock(file: string): Promise<() => void> {
  const lockFile = path.resolve(file);
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      // 'wx' creates atomically and fails if the file exists: two starting processes cannot both win.
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      heldByThisProcess.add(lockFile);
      return () => releaseLock(lockFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(lockFile);
    if (holder === undefined && attempt < 5) {
      await sleep(20); // just created by another process and not written yet, or just removed
      continue;
    }
    if (holder !== undefined && holderIsLive(lockFile, holder)) throw new EmbeddedDatabaseLockedError(lockFile, holder);
    // PGlite would corrupt its files if two processes wrote them, but a dead process writes nothing:
    // a lock left by a crash is safe to take over. (Two processes taking over the same stale lock in the
    // same millisecond could both win; acceptable for a development database.)
    rmSync(lockFile, { force: true });
  }
  throw new Error(`Could not take the lock file ${lockFile}`);
}

function releaseLock(lockFile: string): void {
  // Only remove the file if it is still ours (never a lock another process took after a stale takeover).
  if (!heldByThisProcess.delete(lockFile)) return;
  if (readHolder(lockFile) === process.pid) rmSync(lockFile, { force: true });
}

function holderIsLive(lockFile: string, pid: number): boolean {
  return pid === process.pid ? heldByThisProcess.has(lockFile) : isAlive(pid);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function readHolder(lockFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but belongs to another user
  }
}
