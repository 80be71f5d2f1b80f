/**
 * A user's manifest: the authoritative revision and state of every credential and grant, sealed
 * under the user's data key (docs/vault-format.md §5). A database writer without the data key
 * cannot edit it, so it cannot re-enable a disabled credential, restore an older revision, or
 * widen or un-revoke a grant by editing rows; it can only roll the whole user back to an older
 * consistent state, which the vault's high-water marks detect (see {@link RevisionWitness}).
 *
 * @packageDocumentation
 */
import { z } from "zod";
import { canonicalBytes, parseCanonical } from "../../canonical.js";
import { BLOB_KIND, decryptFailed, openBlob, sealBlob } from "./envelope.js";

const credentialEntry = z.strictObject({
  exchange: z.string(),
  revision: z.number().int().positive(),
  state: z.enum(["active", "disabled"]),
});
const grantEntry = z.strictObject({
  exchanges: z.array(z.string()),
  actions: z.array(z.string()),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  revoked: z.boolean(),
});
const manifestSchema = z.strictObject({
  userId: z.string(),
  seq: z.number().int().positive(),
  credentials: z.record(z.string(), credentialEntry),
  grants: z.record(z.string(), grantEntry),
});

/** The decrypted manifest. */
export type Manifest = z.infer<typeof manifestSchema>;
/** A credential's authoritative state. */
export type ManifestCredential = z.infer<typeof credentialEntry>;
/** A grant's authoritative scope and state. */
export type ManifestGrant = z.infer<typeof grantEntry>;

/** Seals `m` under the data key, bound to `{ userId, seq }`. */
export function sealManifest(dataKey: Uint8Array, m: Manifest): Uint8Array {
  return sealBlob(dataKey, BLOB_KIND.manifest, { userId: m.userId, seq: m.seq }, canonicalBytes(m));
}

/**
 * Opens and validates a sealed manifest expected to be `userId`'s at `seq`.
 *
 * @throws {KeywardenError} `ERR_VAULT_DECRYPT_FAILED` for any failure.
 */
export function openManifest(
  dataKey: Uint8Array,
  userId: string,
  seq: number,
  sealed: Uint8Array,
): Manifest {
  const plain = openBlob(dataKey, BLOB_KIND.manifest, { userId, seq }, sealed);
  try {
    return validateManifest(new TextDecoder().decode(plain), userId, seq);
  } finally {
    plain.fill(0);
  }
}

/** Parses and checks an authenticated manifest text (canonical JSON, schema, user and seq). */
function validateManifest(text: string, userId: string, seq: number): Manifest {
  try {
    const parsed = manifestSchema.safeParse(parseCanonical(text));
    if (!parsed.success || parsed.data.userId !== userId || parsed.data.seq !== seq) {
      throw decryptFailed();
    }
    return parsed.data;
  } catch {
    throw decryptFailed();
  }
}

/** Most users whose last manifest a {@link ManifestReader} remembers; emptied when past it. */
const READER_LIMIT = 1024;

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * @internal Read-only manifest opens (every credential open) for one vault. Each open decrypts
 * and authenticates the sealed manifest as {@link openManifest} does; when the authenticated text
 * equals the text last validated for the user, the validated (deep-frozen) manifest is returned
 * instead of parsing, re-canonicalizing and schema-checking the same bytes again (issue 21).
 * The result must not be modified (it is frozen: a write throws).
 */
export class ManifestReader {
  readonly #last = new Map<string, { text: string; manifest: Manifest }>();

  /**
   * Opens `sealed` as `userId`'s manifest at `seq`.
   *
   * @throws {KeywardenError} `ERR_VAULT_DECRYPT_FAILED` for any failure, as {@link openManifest}.
   */
  open(dataKey: Uint8Array, userId: string, seq: number, sealed: Uint8Array): Manifest {
    const plain = openBlob(dataKey, BLOB_KIND.manifest, { userId, seq }, sealed);
    let text: string;
    try {
      text = new TextDecoder().decode(plain); // as openManifest decodes it
    } catch {
      throw decryptFailed();
    } finally {
      plain.fill(0);
    }
    const hit = this.#last.get(userId);
    /* Postcondition: a remembered manifest is returned only for the very text it was validated from, for the same user and seq. */
    if (
      hit !== undefined &&
      hit.text === text &&
      hit.manifest.userId === userId &&
      hit.manifest.seq === seq
    ) {
      return hit.manifest;
    }
    const manifest = deepFreeze(validateManifest(text, userId, seq));
    if (this.#last.size >= READER_LIMIT) this.#last.clear();
    this.#last.set(userId, { text, manifest });
    return manifest;
  }

  /** Forgets what is remembered for `userId` (deletion, re-wrap). */
  forget(userId: string): void {
    this.#last.delete(userId);
  }
}

/**
 * Where the vault records the highest manifest `seq` it has seen per user, outside the credential
 * database, so that restoring an older but internally consistent copy of a user's rows (row and
 * manifest together) is detected. Without one, the vault keeps high-water marks in memory only,
 * which detects a rollback during the process's lifetime but not across restarts.
 *
 * Implementations: a file or table the database writer cannot write, the audit chain head, a
 * monotonic counter service.
 */
export interface RevisionWitness {
  /** The highest `seq` recorded for `userId`, or 0. */
  get(userId: string): Promise<number>;
  /**
   * Records `seq` for `userId` if greater than the current value (never lowers it, not even
   * when the user is deleted: a user created again starts above it, so a restored backup of the
   * deleted user is refused as a rollback).
   */
  advance(userId: string, seq: number): Promise<void>;
}
