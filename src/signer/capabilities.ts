/**
 * Bot capabilities: a bearer `kwcap_<id>.<secret>` naming one user's trading grant, bound to a bot
 * id (and, over TCP, the bot's TLS client certificate). Only the SHA-256 of the secret is stored;
 * comparison is constant-time.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { KeywardenError } from "../errors.js";

/** A stored capability: never the bearer itself. */
export interface CapabilityRecord {
  readonly capabilityId: string;
  /** Hex SHA-256 of the capability's secret part. */
  readonly verifier: string;
  readonly userId: string;
  readonly grantId: string;
  readonly botId: string;
  /** Hex SHA-256 of the bot's TLS client certificate (DER), when bound to one. */
  readonly certFingerprint: string | null;
  readonly createdAt: number;
  /** The grant's expiry: the capability dies with it. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
}

/** Where capability records live. One file per method contract below. */
export interface CapabilityStore {
  /** The record with this id, if any. */
  get(capabilityId: string): Promise<CapabilityRecord | undefined>;
  /** Adds a new record (ids are random; a duplicate is an error). */
  put(record: CapabilityRecord): Promise<void>;
  /** Marks matching records revoked at `at`; returns how many changed. */
  revoke(
    match: { capabilityId?: string; grantId?: string; userId?: string },
    at: number,
  ): Promise<number>;
}

const recordSchema = z.strictObject({
  capabilityId: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  verifier: z.string().regex(/^[0-9a-f]{64}$/),
  userId: z.string().min(1).max(128),
  grantId: z.string().min(1).max(64),
  botId: z.string().min(1).max(64),
  certFingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  revokedAt: z.number().int().nullable(),
});

const BEARER = /^kwcap_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string) => createHash("sha256").update(s).digest();
const DUMMY = sha256("keywarden-no-such-capability");

/** Mints a new bearer and its record. The bearer is returned once and never stored. */
export function mintCapability(
  fields: Omit<CapabilityRecord, "capabilityId" | "verifier" | "revokedAt">,
): { bearer: string; record: CapabilityRecord } {
  const capabilityId = randomBytes(16).toString("base64url");
  const secret = randomBytes(32).toString("base64url");
  return {
    bearer: `kwcap_${capabilityId}.${secret}`,
    record: { ...fields, capabilityId, verifier: sha256(secret).toString("hex"), revokedAt: null },
  };
}

/**
 * Finds and checks the record of a presented bearer. Undefined for every failure (malformed,
 * unknown, wrong secret), after the same constant-time comparison.
 */
export async function verifyBearer(
  store: CapabilityStore,
  bearer: string,
): Promise<CapabilityRecord | undefined> {
  const m = BEARER.exec(bearer);
  const record = m ? await store.get(m[1] as string) : undefined;
  const presented = sha256(m ? (m[2] as string) : "");
  const expected = record ? Buffer.from(record.verifier, "hex") : DUMMY;
  /* Precondition: the capability secret is compared in constant time against its stored hash. */
  const equal = timingSafeEqual(presented, expected.length === 32 ? expected : DUMMY);
  return equal && record ? record : undefined;
}

function matches(
  r: CapabilityRecord,
  m: { capabilityId?: string; grantId?: string; userId?: string },
) {
  return (
    (m.capabilityId === undefined || r.capabilityId === m.capabilityId) &&
    (m.grantId === undefined || r.grantId === m.grantId) &&
    (m.userId === undefined || r.userId === m.userId) &&
    (m.capabilityId !== undefined || m.grantId !== undefined || m.userId !== undefined)
  );
}

/** In-memory capabilities: tests and single-process demos (lost on restart). */
export function createMemoryCapabilityStore(): CapabilityStore {
  const rows = new Map<string, CapabilityRecord>();
  return {
    async get(id) {
      return rows.get(id);
    },
    async put(record) {
      const r = recordSchema.parse(record);
      if (rows.has(r.capabilityId))
        throw new KeywardenError("ERR_INVALID_ARGUMENT", "duplicate capability");
      rows.set(r.capabilityId, Object.freeze(r));
    },
    async revoke(m, at) {
      let n = 0;
      for (const [id, r] of rows) {
        if (r.revokedAt === null && matches(r, m)) {
          rows.set(id, Object.freeze({ ...r, revokedAt: at }));
          n++;
        }
      }
      return n;
    },
  };
}

/**
 * File-backed capabilities: one JSON file (mode 0600), rewritten atomically on every change and
 * read once at open. Holds only hashes.
 *
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` when the file exists but is not a capability file.
 */
export async function openFileCapabilityStore(file: string): Promise<CapabilityStore> {
  const rows = new Map<string, CapabilityRecord>();
  try {
    const parsed = z.array(recordSchema).safeParse(JSON.parse(await readFile(file, "utf8")));
    if (!parsed.success)
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "capability file is invalid");
    for (const r of parsed.data) rows.set(r.capabilityId, Object.freeze(r));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      if (err instanceof KeywardenError) throw err;
      throw new KeywardenError("ERR_INVALID_ARGUMENT", "capability file is invalid");
    }
  }
  let writing = Promise.resolve();
  const save = () => {
    writing = writing.then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(`${JSON.stringify([...rows.values()])}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    });
    return writing;
  };
  const memory = createMemoryCapabilityStore();
  for (const r of rows.values()) await memory.put(r);
  return {
    get: (id) => memory.get(id),
    async put(record) {
      await memory.put(record);
      rows.set(record.capabilityId, (await memory.get(record.capabilityId)) as CapabilityRecord);
      await save();
    },
    async revoke(m, at) {
      const n = await memory.revoke(m, at);
      if (n > 0) {
        for (const id of rows.keys()) rows.set(id, (await memory.get(id)) as CapabilityRecord);
        await save();
      }
      return n;
    },
  };
}
