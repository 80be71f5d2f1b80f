/**
 * File {@link CredentialStore}: one JSON file per user in a directory of mode 0700, each written
 * atomically (temp file with mode 0600, fsync, rename, fsync of the directory). One process at a
 * time: writes are serialised in-process, not across processes.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from "node:crypto";
import { constants as fsc } from "node:fs";
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { parseJson } from "../../canonical.js";
import { KeywardenError } from "../../errors.js";
import { keepRevocation } from "./memory.js";
import type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  OwnerScopedStore,
  StoreCommit,
  UserKeyRow,
  UserLockRow,
} from "./store.js";

interface UserFile {
  key: UserKeyRow | undefined;
  credentials: Record<string, CredentialRow>;
  grants: Record<string, GrantRow>;
  lock: UserLockRow | undefined;
}

const emptyFile = (): UserFile => ({
  key: undefined,
  credentials: {},
  grants: {},
  lock: undefined,
});
const hasRows = (f: UserFile) =>
  f.key !== undefined ||
  f.lock !== undefined ||
  Object.keys(f.credentials).length > 0 ||
  Object.keys(f.grants).length > 0;
const FILE_NAME = /^u-([0-9a-f]{64})\.json$/;
const fileHash = (userId: string) => createHash("sha256").update(userId).digest("hex");

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const unb64 = (s: unknown) => {
  if (typeof s !== "string") throw corrupt();
  return new Uint8Array(Buffer.from(s, "base64"));
};
const corrupt = () => new KeywardenError("ERR_VAULT_FORMAT", "vault file is malformed");

function encode(userId: string, f: UserFile): string {
  const cred = (r: CredentialRow) => ({ ...r, sealed: b64(r.sealed) });
  const grant = (g: GrantRow) => ({
    ...g,
    wrappedDataKey: g.wrappedDataKey ? b64(g.wrappedDataKey) : null,
  });
  return JSON.stringify({
    v: 1,
    userId,
    lock: f.lock ?? null,
    key: f.key
      ? { ...f.key, wrappedDataKey: b64(f.key.wrappedDataKey), manifest: b64(f.key.manifest) }
      : null,
    credentials: Object.values(f.credentials).map(cred),
    grants: Object.values(f.grants).map(grant),
  });
}

/** Decodes a user file; the owner is the `userId` field (files written before it: any row's). */
function decode(text: string): UserFile & { owner: string | undefined } {
  // biome-ignore lint/suspicious/noExplicitAny: validated field by field below
  const o = parseJson(text) as any;
  if (o?.v !== 1 || !Array.isArray(o.credentials) || !Array.isArray(o.grants)) throw corrupt();
  const f = emptyFile();
  if (o.lock) {
    const l = o.lock;
    if (
      typeof l.userId !== "string" ||
      typeof l.lockId !== "string" ||
      typeof l.reason !== "string" ||
      typeof l.lockedBy !== "string" ||
      !Number.isSafeInteger(l.lockedAt)
    )
      throw corrupt();
    f.lock = {
      userId: l.userId,
      lockId: l.lockId,
      lockedAt: l.lockedAt,
      reason: l.reason,
      lockedBy: l.lockedBy,
    };
  }
  if (o.key) {
    f.key = {
      ...o.key,
      wrappedDataKey: unb64(o.key.wrappedDataKey),
      manifest: unb64(o.key.manifest),
    };
  }
  for (const c of o.credentials) f.credentials[c.credentialId] = { ...c, sealed: unb64(c.sealed) };
  for (const g of o.grants) {
    f.grants[g.grantId] = {
      ...g,
      wrappedDataKey: g.wrappedDataKey === null ? null : unb64(g.wrappedDataKey),
    };
  }
  const owner =
    typeof o.userId === "string"
      ? o.userId
      : (f.key?.userId ??
        Object.values(f.credentials)[0]?.userId ??
        Object.values(f.grants)[0]?.userId);
  return { ...f, owner };
}

/**
 * Stores each user's rows in `<dir>/u-<sha256(userId)>.json` (mode 0600; the directory 0700).
 *
 * @example
 * ```ts
 * const store = await FileCredentialStore.open("/var/lib/keywarden/vault");
 * ```
 */
export class FileCredentialStore implements CredentialStore {
  readonly #dir: string;
  readonly #locks = new Map<string, Promise<unknown>>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Opens (creating with mode 0700 if needed) a store directory.
   *
   * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the path is not a directory or is
   * accessible by group or others.
   */
  static async open(dir: string): Promise<FileCredentialStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await stat(dir);
    if (!st.isDirectory()) throw new KeywardenError("ERR_INVALID_ARGUMENT", "not a directory");
    /* Precondition: a store directory accessible by group or others is refused. */
    if ((st.mode & 0o077) !== 0) {
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "vault directory must have mode 0700");
    }
    return new FileCredentialStore(dir);
  }

  #path(userId: string): string {
    return join(this.#dir, `u-${fileHash(userId)}.json`);
  }

  async #read(userId: string): Promise<UserFile> {
    let text: string;
    try {
      text = await readFile(this.#path(userId), "utf8");
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return emptyFile();
      throw err;
    }
    const { owner, ...f } = decode(text);
    if ((owner !== undefined && owner !== userId) || (f.key && f.key.userId !== userId)) {
      throw corrupt();
    }
    if (f.lock && f.lock.userId !== userId) throw corrupt();
    return f;
  }

  /** {@inheritDoc CredentialStore.listUserIds} */
  async listUserIds(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.#dir)) {
      const m = FILE_NAME.exec(name);
      if (!m) continue;
      let text: string;
      try {
        text = await readFile(join(this.#dir, name), "utf8");
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") continue; // shredded meanwhile
        throw err;
      }
      let file: ReturnType<typeof decode>;
      try {
        file = decode(text);
      } catch {
        continue; // a malformed file opens for nobody (#read fails closed), so nothing to lock
      }
      const { owner, ...f } = file;
      // Listed under the user it names only if its name is that user's hash (#read agrees).
      if (owner === undefined || fileHash(owner) !== m[1]) continue;
      if (hasRows(f)) out.push(owner);
    }
    return out.sort();
  }

  async #write(userId: string, f: UserFile): Promise<void> {
    const target = this.#path(userId);
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    try {
      await fh.writeFile(encode(userId, f), "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await chmod(tmp, 0o600);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const dh = await open(this.#dir, fsc.O_RDONLY);
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  /** Runs `fn` after every earlier operation on the same user has settled. */
  #serial<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(userId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#locks.set(userId, tail);
    void tail.then(() => {
      if (this.#locks.get(userId) === tail) this.#locks.delete(userId);
    });
    return next;
  }

  /** {@inheritDoc CredentialStore.forUser} */
  forUser(userId: string): OwnerScopedStore {
    const read = () => this.#serial(userId, () => this.#read(userId));
    return {
      userId,
      getUserKey: async () => (await read()).key,
      getCredential: async (id) => (await read()).credentials[id],
      listCredentials: async () => Object.values((await read()).credentials),
      getGrant: async (id) => (await read()).grants[id],
      listGrants: async () => Object.values((await read()).grants),
      commit: (change: StoreCommit) =>
        this.#serial(userId, async () => {
          const f = await this.#read(userId);
          if ((f.key?.seq ?? null) !== change.expectedSeq) return false;
          f.key = change.userKey;
          for (const c of change.credentials ?? []) f.credentials[c.credentialId] = c;
          for (const g of change.grants ?? [])
            f.grants[g.grantId] = keepRevocation(f.grants[g.grantId], g);
          await this.#write(userId, f);
          return true;
        }),
      revokeGrant: (grantId, revokedAt) =>
        this.#serial(userId, async () => {
          const f = await this.#read(userId);
          const g = f.grants[grantId];
          if (!g) return false;
          f.grants[grantId] = { ...g, revokedAt: g.revokedAt ?? revokedAt, wrappedDataKey: null };
          await this.#write(userId, f);
          return true;
        }),
      getLock: async () => (await read()).lock,
      lock: (lock) =>
        this.#serial(userId, async () => {
          const f = await this.#read(userId);
          if (f.lock) return false;
          f.lock = { ...lock, userId };
          await this.#write(userId, f);
          return true;
        }),
      clearLock: (lockId) =>
        this.#serial(userId, async () => {
          const f = await this.#read(userId);
          if (f.lock?.lockId !== lockId) return false;
          f.lock = undefined;
          await this.#write(userId, f);
          return true;
        }),
      shred: () =>
        this.#serial(userId, async () => {
          // unlink only removes the name: journaling, copy-on-write file systems, SSD wear
          // levelling and backups may keep the old bytes (docs/kms-setup.md §Deletion).
          await unlink(this.#path(userId)).catch((err: { code?: string }) => {
            if (err.code !== "ENOENT") throw err;
          });
        }),
    };
  }
}
