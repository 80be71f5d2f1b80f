/**
 * Hardware floors for the benchmarks (issue 21): for each hot path, exactly the cryptographic work
 * the operation cannot avoid, done with node:crypto over bytes prepared before timing (no
 * encoding, no validation, no I/O). Each bench file times its floor in the same group, in the
 * same run, over the same bytes as the operation, so vitest's summary ("floor … x faster than
 * …") reads directly as operation / floor.
 *
 * - audit verify: per entry, SHA-256(0x00 || body) (the entry hash) and SHA-256(salt || payload)
 *   (the salted payload commitment, over exactly the bytes `payloadCommitment` hashes); the
 *   benches check with {@link assertAuditFloorInput} that these are the entries' own digests;
 * - audit append: the same two digests per entry (append computes both);
 * - Merkle-maintaining append: the same, plus SHA-256(0x01 || left || right) for every tree node
 *   that becomes complete (n - popcount(n) of them for n leaves); the leaf hash is the entry hash;
 * - vault seal + open: the AES-256-GCM calls the envelope needs, with the same key sizes (256-bit
 *   master and data keys, 96-bit IVs, 128-bit tags) and the same associated-data bytes as
 *   src/vault/kms/local.ts and src/vault/format/envelope.ts;
 * - trading: one ccxt instance construction and one ccxt `sign()` of a private order request
 *   (bench/trading-overhead.ts).
 *
 * @packageDocumentation
 */
import { createCipheriv, createDecipheriv, hash, randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";

/** One line naming what ran: Node, V8, CPU count and model, load, per-iteration sizes and run times. */
export function settingsLine(what: string, settings: Record<string, string | number>): string {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  const pairs = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
  return `[bench settings] ${what}: node ${process.version}, v8 ${process.versions.v8}, ${cpu.length} cpu (${cpu[0]?.model ?? "?"}), load average ${load}; ${pairs.join(", ")}`;
}

/** The byte strings the audit floors hash, per entry, prepared once outside the timed loop. */
export interface AuditFloorInput {
  /** 0x00 || canonical entry body, per entry. */
  readonly leaves: readonly Buffer[];
  /** The exact bytes of each payload commitment (salt || canonical payload, as format v1 hashes). */
  readonly openings: readonly Buffer[];
}

/**
 * The floor's bytes for stored entries: 0x00 || body, and salt || payload cut from the opening
 * text `{"salt":"<64 hex>","value":<payload>}`. Checked: each digest must equal the entry's stored
 * hash and its body's `payloadCommitment`, so the floor hashes exactly what the code hashes.
 *
 * @throws Error when a digest of the prepared bytes differs from the entry's.
 */
export function auditFloorInputOf(
  entries: readonly { body: string; hash: string; payload?: string | null }[],
): AuditFloorInput {
  const leaves: Buffer[] = [];
  const openings: Buffer[] = [];
  for (const e of entries) {
    const text = e.payload as string;
    const leaf = Buffer.concat([Buffer.from([0]), Buffer.from(e.body)]);
    const opening = Buffer.concat([
      Buffer.from(text.slice(9, 73), "hex"),
      Buffer.from(text.slice(83, -1)),
    ]);
    const commitment = (JSON.parse(e.body) as { payloadCommitment: string }).payloadCommitment;
    if (hash("sha256", leaf, "hex") !== e.hash || hash("sha256", opening, "hex") !== commitment)
      throw new Error("floor input does not hash to the entry's own digests");
    leaves.push(leaf);
    openings.push(opening);
  }
  return { leaves, openings };
}

/**
 * Entry hash + payload commitment per entry: the digests verify and append must compute. Output
 * is the digest as a latin1 string (its 32 raw bytes, one character each): on Node 20 that is the
 * cheapest form `hash()` returns, about twice as fast as a Buffer (no allocation, no GC) and no
 * slower than hex, so the floor is the fastest node:crypto way to get these digests.
 */
export function auditEntryFloor(input: AuditFloorInput): void {
  const { leaves, openings } = input;
  for (let i = 0; i < leaves.length; i++) {
    hash("sha256", leaves[i] as Buffer, "binary");
    hash("sha256", openings[i] as Buffer, "binary");
  }
}

/** {@link auditEntryFloor} with Buffer output (each digest allocated), for reference. */
export function auditEntryFloorBuffers(input: AuditFloorInput): void {
  const { leaves, openings } = input;
  for (let i = 0; i < leaves.length; i++) {
    hash("sha256", leaves[i] as Buffer, "buffer");
    hash("sha256", openings[i] as Buffer, "buffer");
  }
}

/**
 * {@link auditEntryFloor} plus the Merkle node hashes an incremental tree computes while the
 * leaves are appended one by one (each leaf hash is the entry hash; each parent is
 * SHA-256(0x01 || left || right) over the digests just computed), with the same output form.
 */
export function auditMerkleFloor(input: AuditFloorInput): void {
  const { leaves, openings } = input;
  const edge: string[] = [];
  const node = Buffer.allocUnsafe(65);
  node[0] = 0x01;
  for (let i = 0; i < leaves.length; i++) {
    let h = hash("sha256", leaves[i] as Buffer, "binary");
    hash("sha256", openings[i] as Buffer, "binary");
    for (let at = i; at % 2 === 1; at = (at - 1) / 2) {
      node.write(edge.pop() as string, 1, "binary");
      node.write(h, 33, "binary");
      h = hash("sha256", node, "binary");
    }
    edge.push(h);
  }
}

/** Bytes for the vault floor, prepared once: keys, wrapped data key, AAD bytes, plaintext. */
export interface EnvelopeFloorInput {
  /** 32-byte master key (LocalKms). */
  readonly master: Uint8Array;
  /** LocalKms associated data: 11-byte header || JCS context (the exact bytes LocalKms uses). */
  readonly kmsAad: Uint8Array;
  /** Envelope associated data: 4-byte header || JCS context (associatedData()). */
  readonly blobAad: Uint8Array;
  /** The encoded credential fields that get sealed. */
  readonly plaintext: Uint8Array;
}

/** A data key wrapped under the master key: IV (12) || ciphertext (32) || tag (16). */
export function wrapDataKey(master: Uint8Array, aad: Uint8Array, dataKey: Uint8Array): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", master, iv);
  c.setAAD(aad);
  const ct = c.update(dataKey);
  c.final();
  return Buffer.concat([iv, ct, c.getAuthTag()]);
}

/** Unwraps IV (12) || ciphertext (32) || tag (16); throws when the tag or associated data differ. */
export function unwrapDataKey(master: Uint8Array, aad: Uint8Array, wrapped: Buffer): Buffer {
  const d = createDecipheriv("aes-256-gcm", master, wrapped.subarray(0, 12));
  d.setAAD(aad);
  d.setAuthTag(wrapped.subarray(44));
  const key = d.update(wrapped.subarray(12, 44));
  d.final();
  return key;
}

/**
 * The minimal envelope round trip: unwrap the data key, seal the secret under it (fresh IV),
 * unwrap again, open the secret; every key and plaintext zeroed. Four AES-256-GCM calls: the same
 * four the vault's seal + open makes (generating a key would make the first one a wrap instead,
 * the same cost: one 32-byte GCM pass under the master key).
 */
export function envelopeFloor(input: EnvelopeFloorInput, wrapped: Buffer): void {
  const dk = unwrapDataKey(input.master, input.kmsAad, wrapped);
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", dk, iv);
  c.setAAD(input.blobAad);
  const body = c.update(input.plaintext);
  c.final();
  const tag = c.getAuthTag();
  dk.fill(0);
  const dk2 = unwrapDataKey(input.master, input.kmsAad, wrapped);
  const d = createDecipheriv("aes-256-gcm", dk2, iv);
  d.setAAD(input.blobAad);
  d.setAuthTag(tag);
  const opened = d.update(body);
  d.final();
  dk2.fill(0);
  opened.fill(0);
}

/** The open half of {@link envelopeFloor}: unwrap the data key, open the sealed secret. */
export function envelopeOpenFloor(
  input: EnvelopeFloorInput,
  wrapped: Buffer,
  sealed: { iv: Buffer; body: Buffer; tag: Buffer },
): void {
  const dk = unwrapDataKey(input.master, input.kmsAad, wrapped);
  const d = createDecipheriv("aes-256-gcm", dk, sealed.iv);
  d.setAAD(input.blobAad);
  d.setAuthTag(sealed.tag);
  const opened = d.update(sealed.body);
  d.final();
  dk.fill(0);
  opened.fill(0);
}

/** Seals `input.plaintext` under the data key in `wrapped`, for {@link envelopeOpenFloor}. */
export function sealForFloor(
  input: EnvelopeFloorInput,
  wrapped: Buffer,
): { iv: Buffer; body: Buffer; tag: Buffer } {
  const dk = unwrapDataKey(input.master, input.kmsAad, wrapped);
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", dk, iv);
  c.setAAD(input.blobAad);
  const body = c.update(input.plaintext);
  c.final();
  dk.fill(0);
  return { iv, body, tag: c.getAuthTag() };
}
