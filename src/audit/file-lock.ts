/**
 * A single-writer lock file with stale-lock detection by pid (Node only).
 */
import { randomBytes } from "node:crypto";
import { open, readFile, unlink } from "node:fs/promises";
import { KeywardenError } from "../errors.js";

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
 * Takes the lock at `path` (`<pid> <nonce>`), breaking it only when its owner process is gone.
 *
 * @throws {KeywardenError} `ERR_AUDIT_STORE_LOCKED` when a live process holds it.
 */
export async function acquireLock(path: string): Promise<HeldLock> {
  const nonce = randomBytes(16).toString("hex");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      try {
        await fh.writeFile(`${process.pid} ${nonce}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      /* Postcondition: the lock file names this writer (no other process replaced it meanwhile). */
      const owner = await readOwner(path);
      if (owner?.nonce !== nonce) continue;
      return {
        async release() {
          if ((await readOwner(path))?.nonce === nonce) await unlink(path).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = await readOwner(path);
      /* Precondition: a lock held by a live process is never broken. */
      if (owner && isAlive(owner.pid))
        throw new KeywardenError(
          "ERR_AUDIT_STORE_LOCKED",
          "the audit file is locked by another writer",
          {
            details: { pid: owner.pid },
          },
        );
      // Stale (owner gone) or unreadable after a crash mid-write: remove it and try again.
      await unlink(path).catch(() => undefined);
    }
  }
  throw new KeywardenError("ERR_AUDIT_STORE_LOCKED", "could not take the audit file lock");
}
