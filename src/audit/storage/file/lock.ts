/**
 * A single-writer lock file with stale-lock detection by pid (Node only).
 */
import { randomBytes } from "node:crypto";
import { open, readFile, unlink } from "node:fs/promises";
import { KeywardenError } from "../../../errors.js";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readOwner(path: string): Promise<{ pid: number; nonce: string } | undefined> {
  try {
    const [pid, nonce] = (await readFile(path, "utf8")).trim().split(" ");
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 && nonce ? { pid: n, nonce } : undefined;
  } catch {
    return undefined;
  }
}

/** A held lock. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock at `path` (`<pid> <nonce>`), breaking it only when its owner process is gone, and
 * waiting up to `waitMs` while a live holder has it.
 *
 * @throws {KeywardenError} `ERR_AUDIT_STORE_LOCKED` when a live process still holds it after `waitMs`.
 */
export async function acquireLock(path: string, waitMs = 0): Promise<HeldLock> {
  const nonce = randomBytes(16).toString("hex");
  const deadline = Date.now() + waitMs;
  let pause = 1;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      try {
        await fh.writeFile(`${process.pid} ${nonce}\n`);
      } finally {
        await fh.close();
      }
      /* Postcondition: the lock file names this writer (no other process replaced it meanwhile). */
      const owner = await readOwner(path);
      if (owner?.nonce !== nonce) {
        if (attempt > 100) break;
        continue;
      }
      return {
        async release() {
          if ((await readOwner(path))?.nonce === nonce) await unlink(path).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = await readOwner(path);
      /* Precondition: a lock held by a live process is never broken. */
      if (owner && isAlive(owner.pid)) {
        if (Date.now() >= deadline)
          throw new KeywardenError(
            "ERR_AUDIT_STORE_LOCKED",
            "the audit file is locked by another writer",
            {
              details: { pid: owner.pid },
            },
          );
        await new Promise((r) => setTimeout(r, pause + Math.random() * pause));
        pause = Math.min(pause * 2, 50);
        continue;
      }
      if (!owner && attempt < 3) {
        // Just created by a writer that has not written its pid yet: give it a moment.
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      // Stale (owner gone) or unreadable after a crash mid-write: remove it and try again.
      await unlink(path).catch(() => undefined);
      if (attempt > 1000) break;
    }
  }
  throw new KeywardenError("ERR_AUDIT_STORE_LOCKED", "could not take the audit file lock");
}
