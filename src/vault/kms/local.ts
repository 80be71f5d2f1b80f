/**
 * LocalKms: data keys wrapped with AES-256-GCM under a master key held by this process.
 * Development and self-hosted use only: whoever can read the master key (the host's operators)
 * can unwrap every data key. See docs/kms-setup.md.
 *
 * @packageDocumentation
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  randomFillSync,
} from "node:crypto";
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { takeSecretFromEnv } from "../../env.js";
import { KeywardenError } from "../../errors.js";
import { Secret } from "../../secret.js";
import { decryptFailed, jcsString, plainView } from "../format/index.js";
import type { GeneratedDataKey, KmsAuthorization, KmsContext, KmsProvider } from "./provider.js";

const FILE_PREFIX = "keywarden-local-kms-v1 ";
const WRAP_VERSION = 1;
const KEY_ID_LENGTH = 8;
const HEADER = 3 + KEY_ID_LENGTH; // "KL", version, key id
/** Length of a LocalKms-wrapped 32-byte data key. */
export const LOCAL_WRAPPED_LENGTH = HEADER + 12 + 32 + 16;

function masterKeyError(message: string): KeywardenError {
  return new KeywardenError("ERR_KMS_MASTER_KEY", message);
}

function fingerprint(master: Secret): Uint8Array {
  return master.use((k) =>
    createHmac("sha256", k)
      .update("keywarden.local-kms.key-id")
      .digest()
      .subarray(0, KEY_ID_LENGTH),
  );
}

function aadFor(header: Uint8Array, context: KmsContext): Uint8Array {
  // RFC 8785 canonical JSON of {format, grantId?, purpose, userId} (keys in JCS order).
  const grant = context.grantId === undefined ? "" : `"grantId":${jcsString(context.grantId)},`;
  const json = `{"format":"keywarden.local-kms",${grant}"purpose":${jcsString(context.purpose)},"userId":${jcsString(context.userId)}}`;
  // Its own memory, not a slice of Node's shared pool: cached entries must not pin pool chunks.
  const aad = Buffer.allocUnsafeSlow(header.length + Buffer.byteLength(json));
  aad.set(header, 0);
  aad.write(json, header.length, "utf8");
  return aad;
}

/** Most contexts remembered per master key; the cache is emptied when it grows past this. */
const AAD_CACHE_LIMIT = 1024;

/**
 * Associated data per context under one master key, looked up by the context's own strings
 * (user id, then purpose, then grant id) so that a hit builds no string: no lookup key to
 * concatenate and hash per call (issue 21).
 */
interface AadCache {
  /** userId -> purpose -> the bytes without a grant, and per grant id. */
  readonly users: Map<string, Map<string, AadByGrant>>;
  size: number;
}

interface AadByGrant {
  plain?: Uint8Array;
  readonly grants: Map<string, Uint8Array>;
}

function newAadCache(): AadCache {
  return { users: new Map(), size: 0 };
}

/**
 * The associated data of `context` under one master key, remembered: the bytes are public (key
 * id and context), depend on nothing else, and are never handed out or modified, so a repeated
 * open of the same user's key skips re-encoding them (issue 21). A context whose fields are not
 * strings is encoded (and refused by {@link aadFor}) without touching the cache; a string that is
 * not well-formed is refused by {@link aadFor} before anything is stored.
 */
function cachedAad(cache: AadCache, header: Uint8Array, context: KmsContext): Uint8Array {
  const { userId, purpose, grantId } = context;
  if (
    typeof userId !== "string" ||
    typeof purpose !== "string" ||
    (grantId !== undefined && typeof grantId !== "string")
  )
    return aadFor(header, context);
  const slot = cache.users.get(userId)?.get(purpose);
  const hit = grantId === undefined ? slot?.plain : slot?.grants.get(grantId);
  if (hit !== undefined) return hit;
  const aad = aadFor(header, context);
  if (cache.size >= AAD_CACHE_LIMIT) {
    cache.users.clear();
    cache.size = 0;
  }
  let byPurpose = cache.users.get(userId);
  if (byPurpose === undefined) {
    byPurpose = new Map();
    cache.users.set(userId, byPurpose);
  }
  let byGrant = byPurpose.get(purpose);
  if (byGrant === undefined) {
    byGrant = { grants: new Map() };
    byPurpose.set(purpose, byGrant);
  }
  if (grantId === undefined) byGrant.plain = aad;
  else byGrant.grants.set(grantId, aad);
  cache.size++;
  return aad;
}

/** True when the key id in `wrapped` (bytes 3..10) is `id`. Key ids are public fingerprints. */
function sameKeyId(id: Uint8Array, wrapped: Uint8Array): boolean {
  for (let i = 0; i < KEY_ID_LENGTH; i++) if (id[i] !== wrapped[3 + i]) return false;
  return true;
}

/**
 * Creates a new master key file holding 32 random bytes, with mode 0600, failing if the path
 * exists. Used by `keywarden kms init`.
 *
 * @example
 * ```ts
 * createMasterKeyFile("/etc/keywarden/master.key");
 * const kms = LocalKms.fromKeyFile("/etc/keywarden/master.key");
 * ```
 * @throws {KeywardenError} `ERR_KMS_MASTER_KEY` when the file exists or cannot be written.
 */
export function createMasterKeyFile(path: string): void {
  const key = randomBytes(32);
  const text = Buffer.from(`${FILE_PREFIX}${key.toString("base64url")}\n`, "utf8");
  key.fill(0);
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (err) {
    text.fill(0);
    const code = (err as { code?: string }).code ?? "unknown";
    throw new KeywardenError("ERR_KMS_MASTER_KEY", "cannot create the master key file", {
      details: { reason: code },
    });
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    text.fill(0);
    closeSync(fd);
  }
}

function readKeyFile(path: string): Secret {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw new KeywardenError("ERR_KMS_MASTER_KEY", "cannot open the master key file", {
      details: { reason: (err as { code?: string }).code ?? "unknown" },
    });
  }
  const buf = Buffer.alloc(256);
  try {
    const st = fstatSync(fd);
    /* Precondition: a master key file readable or writable by group or others is refused. */
    if (!st.isFile() || (st.mode & 0o077) !== 0) {
      throw masterKeyError("master key file must be a regular file with mode 0600 or stricter");
    }
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw masterKeyError("master key file must be owned by the user running keywarden");
    }
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("latin1");
    const m = /^keywarden-local-kms-v1 ([A-Za-z0-9_-]{43})\n?$/.exec(text);
    if (!m?.[1]) throw masterKeyError("master key file is not a keywarden master key");
    const raw = Buffer.from(m[1], "base64url");
    const key = new Uint8Array(raw);
    raw.fill(0);
    if (key.length !== 32) throw masterKeyError("master key file is not a keywarden master key");
    return Secret.fromBytes(key);
  } finally {
    buf.fill(0);
    closeSync(fd);
  }
}

interface MasterKey {
  readonly id: Uint8Array;
  readonly key: Secret;
  /** "KL", version, key id: the header of every key wrapped under this master key. */
  readonly header: Uint8Array;
  /** Associated data per context (see {@link cachedAad}). */
  readonly aad: AadCache;
}

function masterKey(key: Secret): MasterKey {
  const id = fingerprint(key);
  const header = new Uint8Array(HEADER);
  header.set([0x4b, 0x4c, WRAP_VERSION], 0);
  header.set(id, 3);
  return { id, key, header, aad: newAadCache() };
}

/**
 * The embedded KMS provider. Wraps 32-byte data keys with AES-256-GCM under a 32-byte master key;
 * the encryption context (user, purpose, grant) is the associated data, so a wrapped key opens
 * only under the context it was made for. Older master keys may be supplied for re-wrapping.
 *
 * **Development and self-hosted only**: the master key lives on the same host as the data, so an
 * operator who can read it can unwrap every user's data key. Use AwsKms where operators must not
 * be able to decrypt.
 *
 * @example
 * ```ts
 * const kms = LocalKms.fromKeyFile("./master.key"); // created by `keywarden kms init`
 * const vault = createVault({ kms, store: new MemoryCredentialStore() });
 * ```
 */
export class LocalKms implements KmsProvider {
  readonly name = "local";
  readonly #keys: MasterKey[];
  #closed = false;

  /**
   * @param current the master key new data keys are wrapped under (taken over; wiped by close()).
   * @param previous older master keys, accepted for decrypt and re-wrap only.
   * @throws {KeywardenError} `ERR_KMS_MASTER_KEY` when a key is not 32 bytes.
   */
  constructor(current: Secret, previous: readonly Secret[] = []) {
    for (const k of [current, ...previous]) {
      if (!Secret.isSecret(k) || k.byteLength !== 32)
        throw masterKeyError("master key must be 32 bytes");
    }
    this.#keys = [current, ...previous].map(masterKey);
  }

  /**
   * Reads master keys from files created by `keywarden kms init`.
   *
   * @throws {KeywardenError} `ERR_KMS_MASTER_KEY` when a file is missing, malformed, not owned by
   * this user, or readable/writable by group or others.
   */
  static fromKeyFile(path: string, previousPaths: readonly string[] = []): LocalKms {
    return new LocalKms(readKeyFile(path), previousPaths.map(readKeyFile));
  }

  /**
   * Reads the master key (base64 or base64url of 32 bytes) from an environment variable, which is
   * then deleted from `process.env`.
   *
   * @throws {KeywardenError} `ERR_ENV_SECRET_MISSING` when unset; `ERR_KMS_MASTER_KEY` when not 32 bytes.
   */
  static fromEnv(name = "KEYWARDEN_MASTER_KEY"): LocalKms {
    const text = takeSecretFromEnv(name, "utf8");
    const bytes = text.use((b) => {
      const raw = Buffer.from(Buffer.from(b).toString("latin1").trim(), "base64");
      const copy = new Uint8Array(raw);
      raw.fill(0);
      return copy;
    });
    text.wipe();
    if (bytes.length !== 32) {
      bytes.fill(0);
      throw masterKeyError("master key must be 32 bytes (base64)");
    }
    return new LocalKms(Secret.fromBytes(bytes));
  }

  /** Hex fingerprint of the current master key (not secret). */
  get keyId(): string {
    return Buffer.from((this.#keys[0] as { id: Uint8Array }).id).toString("hex");
  }

  /** Wipes every master key held; every later call fails with `ERR_KMS_MASTER_KEY`. */
  close(): void {
    this.#closed = true;
    for (const k of this.#keys) {
      k.key.wipe();
      k.aad.users.clear();
      k.aad.size = 0;
    }
  }

  #check(context: KmsContext, auth: KmsAuthorization): void {
    if (this.#closed) throw masterKeyError("LocalKms was closed");
    /* Precondition: the authorization must be for the user named in the encryption context. */
    if (auth.userId !== context.userId) {
      throw new KeywardenError("ERR_KMS_ACCESS_DENIED", "access denied");
    }
  }

  #wrap(dataKey: Uint8Array, context: KmsContext): Uint8Array {
    const entry = this.#keys[0] as MasterKey;
    const iv = randomBytes(12);
    const out = new Uint8Array(LOCAL_WRAPPED_LENGTH);
    entry.key.use((k) => {
      const c = createCipheriv("aes-256-gcm", k, iv);
      c.setAAD(cachedAad(entry.aad, entry.header, context));
      const ct = c.update(dataKey);
      c.final();
      out.set(entry.header, 0);
      out.set(iv, HEADER);
      out.set(ct, HEADER + 12);
      out.set(c.getAuthTag(), HEADER + 12 + 32);
    });
    return out;
  }

  #unwrap(wrapped: Uint8Array, context: KmsContext): Uint8Array {
    if (
      !(wrapped instanceof Uint8Array) ||
      wrapped.length !== LOCAL_WRAPPED_LENGTH ||
      wrapped[0] !== 0x4b ||
      wrapped[1] !== 0x4c ||
      wrapped[2] !== WRAP_VERSION
    ) {
      throw decryptFailed();
    }
    // The current key first, without a search closure per call (issue 21).
    const current = this.#keys[0] as MasterKey;
    const entry = sameKeyId(current.id, wrapped)
      ? current
      : this.#keys.find((k) => sameKeyId(k.id, wrapped));
    if (!entry) throw decryptFailed();
    let pt: Uint8Array | undefined;
    try {
      return entry.key.use((k) => {
        const d = createDecipheriv("aes-256-gcm", k, wrapped.subarray(HEADER, HEADER + 12));
        d.setAAD(cachedAad(entry.aad, entry.header, context));
        d.setAuthTag(wrapped.subarray(HEADER + 44));
        // update() returns a buffer of its own (not a slice of Node's pool): it becomes the key,
        // as a plain Uint8Array over the same memory.
        pt = plainView(d.update(wrapped.subarray(HEADER + 12, HEADER + 44)));
        d.final();
        return pt;
      });
    } catch {
      pt?.fill(0);
      throw decryptFailed();
    }
  }

  /** {@inheritDoc KmsProvider.generateDataKey} */
  async generateDataKey(context: KmsContext, auth: KmsAuthorization): Promise<GeneratedDataKey> {
    this.#check(context, auth);
    const dataKey = randomFillSync(new Uint8Array(32));
    return {
      plaintext: Secret.fromBytes(dataKey),
      wrapped: this.#wrap(dataKey, context),
      keyId: this.keyId,
    };
  }

  /** {@inheritDoc KmsProvider.decrypt} */
  async decrypt(wrapped: Uint8Array, context: KmsContext, auth: KmsAuthorization): Promise<Secret> {
    this.#check(context, auth);
    return Secret.fromBytes(this.#unwrap(wrapped, context));
  }

  /** {@inheritDoc KmsProvider.reEncrypt} */
  async reEncrypt(
    wrapped: Uint8Array,
    from: KmsContext,
    to: KmsContext,
    auth: KmsAuthorization,
  ): Promise<{ wrapped: Uint8Array; keyId: string }> {
    this.#check(from, auth);
    this.#check(to, auth);
    const dataKey = this.#unwrap(wrapped, from);
    try {
      return { wrapped: this.#wrap(dataKey, to), keyId: this.keyId };
    } finally {
      dataKey.fill(0);
    }
  }
}
