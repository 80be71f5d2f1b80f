/**
 * Generates the heads-receipt conformance vectors in test/vectors/heads/ (docs/audit-format.md
 * §17–§18). Deterministic: fixed secrets, seeds and times, so a re-run rewrites the same files.
 * Run: `npx tsx scripts/gen-heads-vectors.ts` (add `--check` to fail when a file differs).
 *
 * Leaves are written from the spec's text with node:crypto HMAC-SHA256; Merkle roots and inclusion
 * paths come from the RFC 9162 §2.1 reference definitions (scripts/gen-audit-vectors-transparency.ts),
 * not from the library. Signatures and cosignatures use the library's signers (Ed25519 is
 * deterministic); every expected result is the one §18 prescribes for the mutation, stated beside it.
 */
import { createHash, createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  createCosigner,
  LocalEd25519Signer,
  type NoteSigner,
  signNote,
} from "../src/audit/transparency/index.js";
import { Secret } from "../src/secret.js";
import { mth, path } from "./gen-audit-vectors-transparency.js";

const OUT = join(import.meta.dirname, "..", "test", "vectors", "heads");
const HEADS = "audit.example.com/keywarden-heads";
const TIME = 1764400000;
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const hmac = (key: Uint8Array, msg: string) =>
  new Uint8Array(createHmac("sha256", key).update(msg).digest());
const leafHash = (leaf: string) =>
  new Uint8Array(createHash("sha256").update(Buffer.of(0)).update(leaf).digest());

/** The operator's heads secret: bytes 01 02 … 20, as in the §17.1 vector. */
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const chainKey = (origin: string) => hmac(SECRET, `keywarden-head/v1 chain-key\n${origin}`);
const tag = (key: Uint8Array, size: number) => hmac(key, `keywarden-head/v1 tag\n${size}\n`);
const root = (n: number) => new Uint8Array(32).fill(n);
const leafText = (origin: string, size: number, r: Uint8Array, time: number) =>
  `keywarden-head/v1\n${b64(tag(chainKey(origin), size))}\n${b64(r)}\n${time}\n`;

/** A signer for the Ed25519 seed `seed` named `name` (key ID as format §11 computes it). */
function signerOf(name: string, seed: number): LocalEd25519Signer {
  const s = Uint8Array.from({ length: 32 }, (_, i) => seed + i);
  const pub = ed25519.getPublicKey(s);
  const id = createHash("sha256")
    .update(`${name}\n`)
    .update(Buffer.of(1))
    .update(pub)
    .digest("hex")
    .slice(0, 8);
  const material = Buffer.concat([Buffer.of(1), s]).toString("base64");
  return LocalEd25519Signer.fromSecret(Secret.fromString(`PRIVATE+KEY+${name}+${id}+${material}`));
}

/** One heads vector (see test/audit/transparency/heads.vectors.test.ts for how it is run). */
export interface HeadsVector {
  id: string;
  comment: string;
  section: string;
  kind: "heads-receipt";
  input: { text: string };
  trusted: {
    headsKeys: string[];
    witnessKeys: string[];
    quorum: number;
    origin?: string;
    chainKey: string;
  };
  chain: { size: number; root: string; time: number | null };
  result:
    | {
        valid: true;
        headsOrigin: string;
        headsSize: number;
        headsIndex: number;
        witnesses: string[];
      }
    | { valid: false; reason: string };
}

const ALICE = "audit.example.com/keywarden/user:alice";
const BOB = "audit.example.com/keywarden/user:bob";
const CAROL = "audit.example.com/keywarden/user:carol";

async function main(): Promise<void> {
  const log = signerOf(HEADS, 0);
  const other = signerOf(HEADS, 50);
  const witnesses = ["witness-a.example", "witness-b.example", "witness-c.example"].map((n, i) =>
    createCosigner(signerOf(n, 100 + i * 10)),
  );
  const stranger = createCosigner(signerOf("witness-x.example", 200));
  const witnessKeys = witnesses.map((w) => w.verifierKey);

  // The heads log: 7 leaves (chains alice, bob, carol at several sizes), in publication order.
  const leaves = [
    leafText(ALICE, 3, root(0x11), TIME - 600),
    leafText(BOB, 1, root(0x21), TIME - 590),
    leafText(ALICE, 5, root(0x12), TIME - 300),
    leafText(CAROL, 9, root(0x31), TIME - 290),
    leafText(BOB, 2, root(0x22), TIME - 280),
    "not a heads leaf\n",
    leafText(CAROL, 12, root(0x32), TIME - 10),
  ];
  const hashes = leaves.map(leafHash);
  const body = (n: number) =>
    `${HEADS}\n${n}\n${b64(mth(hashes.slice(0, n)))}\nkeywarden-time ${TIME}\n`;
  const cosigned = async (n: number, by: NoteSigner[], cosigners: typeof witnesses) => {
    let note = await signNote(body(n), by);
    for (const w of cosigners) note += await w.cosign(body(n), TIME + 5);
    return note;
  };
  const receipt = (
    index: number,
    size: number,
    note: string,
    extra = leaves[index] as string,
    p = path(index, hashes.slice(0, size)),
  ) =>
    `c2sp.org/tlog-proof@v1\nextra ${b64(Buffer.from(extra))}\nindex ${index}\n${p.map((x) => `${b64(x)}\n`).join("")}\n${note}`;

  const full = await cosigned(7, [log], witnesses);
  const vectors: HeadsVector[] = [];
  const add = (
    id: string,
    comment: string,
    text: string,
    chain: { origin: string; size: number; root: Uint8Array; time: number | null },
    result: HeadsVector["result"],
    trusted: Partial<HeadsVector["trusted"]> = {},
  ) =>
    vectors.push({
      id: `heads-${id}`,
      comment,
      section: "§18",
      kind: "heads-receipt",
      input: { text },
      trusted: {
        headsKeys: [log.verifierKey],
        witnessKeys,
        quorum: 2,
        chainKey: b64(chainKey(chain.origin)),
        ...trusted,
      },
      chain: { size: chain.size, root: b64(chain.root), time: chain.time },
      result,
    });
  const ok = (index: number, size: number, names: string[]) => ({
    valid: true as const,
    headsOrigin: HEADS,
    headsSize: size,
    headsIndex: index,
    witnesses: names,
  });
  const bad = (reason: string) => ({ valid: false as const, reason });
  const allNames = witnesses.map((w) => w.name);
  const alice5 = { origin: ALICE, size: 5, root: root(0x12), time: TIME - 300 };

  // ------------------------------------------------ valid
  add(
    "valid-2-of-7",
    "alice at size 5, leaf 2 of 7, 3 of 3 witnesses, 2 required",
    receipt(2, 7, full),
    alice5,
    ok(2, 7, allNames),
  );
  add(
    "valid-0-of-7",
    "alice at size 3, leaf 0 of 7",
    receipt(0, 7, full),
    { origin: ALICE, size: 3, root: root(0x11), time: TIME - 600 },
    ok(0, 7, allNames),
  );
  add(
    "valid-6-of-7",
    "carol at size 12, the last leaf of 7",
    receipt(6, 7, full),
    { origin: CAROL, size: 12, root: root(0x32), time: TIME - 10 },
    ok(6, 7, allNames),
  );
  add(
    "valid-no-time",
    "the chain checkpoint's time is not compared when not given",
    receipt(2, 7, full),
    { ...alice5, time: null },
    ok(2, 7, allNames),
  );
  const size1 = await cosigned(1, [log], witnesses.slice(0, 2));
  add(
    "valid-0-of-1",
    "a heads log of one leaf (empty proof), 2 of 3 witnesses",
    receipt(0, 1, size1),
    { origin: ALICE, size: 3, root: root(0x11), time: TIME - 600 },
    ok(0, 1, allNames.slice(0, 2)),
  );
  add(
    "valid-quorum-0",
    "no witness required, none listed",
    receipt(4, 5, await cosigned(5, [log], [])),
    { origin: BOB, size: 2, root: root(0x22), time: TIME - 280 },
    ok(4, 5, []),
    { witnessKeys: [], quorum: 0 },
  );
  add(
    "valid-origin-pinned",
    "the heads origin pinned to the right one",
    receipt(2, 7, full),
    alice5,
    ok(2, 7, allNames),
    { origin: HEADS },
  );
  add(
    "valid-unknown-cosigner-ignored",
    "a cosignature by a witness not listed is ignored",
    receipt(2, 7, full + (await stranger.cosign(body(7), TIME + 5))),
    alice5,
    ok(2, 7, allNames),
  );

  // ------------------------------------------------ the heads checkpoint fails the policy
  add(
    "wrong-heads-key",
    "signed by a heads key the user does not trust",
    receipt(2, 7, await cosigned(7, [other], witnesses)),
    alice5,
    bad("heads-signature"),
  );
  add(
    "untrusted-key-given",
    "the user trusts another heads key than the one that signed",
    receipt(2, 7, full),
    alice5,
    bad("heads-signature"),
    { headsKeys: [other.verifierKey] },
  );
  add(
    "origin-other",
    "the user pinned another heads origin",
    receipt(2, 7, full),
    alice5,
    bad("heads-signature"),
    { origin: "audit.example.com/other-heads" },
  );
  const cosig = (await witnesses[0]?.cosign(body(7), TIME + 5)) ?? "";
  // Flip one bit of the Ed25519 signature (bytes 12…75 of the cosignature; 0…3 are the key ID).
  const broken = cosig.replace(/ (\S+)\n$/, (_m, sig: string) => {
    const bytes = Buffer.from(sig, "base64");
    bytes[30] = (bytes[30] as number) ^ 1;
    return ` ${bytes.toString("base64")}\n`;
  });
  add(
    "cosignature-tampered",
    "a listed witness's cosignature does not verify (any failing known signature rejects the note)",
    receipt(
      2,
      7,
      (await signNote(body(7), [log])) + broken + (await witnesses[1]?.cosign(body(7), TIME + 5)),
    ),
    alice5,
    bad("heads-signature"),
  );
  add(
    "witness-1-of-2",
    "only 1 listed witness cosigned, 2 required",
    receipt(2, 7, await cosigned(7, [log], witnesses.slice(0, 1))),
    alice5,
    bad("witness-quorum"),
  );
  add(
    "witness-none",
    "no cosignature at all, 2 required",
    receipt(2, 7, await signNote(body(7), [log])),
    alice5,
    bad("witness-quorum"),
  );
  add(
    "witness-stranger",
    "cosigned only by witnesses the user did not list",
    receipt(2, 7, (await signNote(body(7), [log])) + (await stranger.cosign(body(7), TIME + 5))),
    alice5,
    bad("witness-quorum"),
    { quorum: 1 },
  );
  add(
    "witness-all-3",
    "2 of 3 cosigned, the user requires all 3",
    receipt(2, 7, await cosigned(7, [log], witnesses.slice(0, 2))),
    alice5,
    bad("witness-quorum"),
    { quorum: 3 },
  );

  // ------------------------------------------------ the inclusion proof fails
  const p2 = path(2, hashes);
  const flipped = p2.map((h, i) =>
    i === 1 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h,
  );
  add(
    "proof-tampered",
    "one proof hash has a flipped bit",
    receipt(2, 7, full, undefined, flipped),
    alice5,
    bad("inclusion"),
  );
  add(
    "proof-short",
    "the last proof hash is missing",
    receipt(2, 7, full, undefined, p2.slice(0, -1)),
    alice5,
    bad("inclusion"),
  );
  add(
    "proof-extra",
    "a proof hash too many",
    receipt(2, 7, full, undefined, [...p2, hashes[0] as Uint8Array]),
    alice5,
    bad("inclusion"),
  );
  add(
    "index-other",
    "the index of another leaf",
    receipt(2, 7, full).replace("index 2", "index 3"),
    alice5,
    bad("inclusion"),
  );
  add(
    "leaf-tampered",
    "the leaf's root was replaced (alice's leaf claiming root 0x13…)",
    receipt(2, 7, full, leafText(ALICE, 5, root(0x13), TIME - 300)),
    { ...alice5, root: root(0x13) },
    bad("inclusion"),
  );
  add(
    "proof-other-tree",
    "a proof for the 5-leaf tree under the 7-leaf checkpoint",
    receipt(2, 7, full, undefined, path(2, hashes.slice(0, 5))),
    alice5,
    bad("inclusion"),
  );

  // ------------------------------------------------ the leaf is not this chain checkpoint
  add(
    "other-chain-key",
    "bob's chain key against alice's leaf",
    receipt(2, 7, full),
    alice5,
    bad("not-this-chain"),
    { chainKey: b64(chainKey(BOB)) },
  );
  add(
    "other-size",
    "alice's leaf for size 5, the user's checkpoint is size 4",
    receipt(2, 7, full),
    { ...alice5, size: 4 },
    bad("not-this-chain"),
  );
  add(
    "fork",
    "alice's leaf for size 5 records another root than the user's checkpoint",
    receipt(2, 7, full),
    { ...alice5, root: root(0x99) },
    bad("fork"),
  );
  add(
    "time-mismatch",
    "same chain, size and root, another checkpoint time",
    receipt(2, 7, full),
    { ...alice5, time: TIME - 299 },
    bad("time-mismatch"),
  );

  // ------------------------------------------------ malformed
  add(
    "leaf-not-heads",
    "an included entry that is not a heads leaf",
    receipt(5, 7, full),
    alice5,
    bad("malformed"),
  );
  add("not-a-receipt", "a checkpoint note given as the receipt", full, alice5, bad("malformed"));
  add(
    "no-extra",
    "a receipt without the leaf (no extra line)",
    receipt(2, 7, full).replace(/^extra .*\n/m, ""),
    alice5,
    bad("malformed"),
  );

  const check = process.argv.includes("--check");
  mkdirSync(OUT, { recursive: true });
  const wanted = new Map(vectors.map((v) => [`${v.id}.json`, `${JSON.stringify(v, null, 2)}\n`]));
  if (wanted.size !== vectors.length) throw new Error("duplicate vector id");
  let differs = 0;
  for (const name of readdirSync(OUT))
    if (name.endsWith(".json") && !wanted.has(name)) {
      differs++;
      if (!check) rmSync(join(OUT, name));
    }
  for (const [name, text] of wanted) {
    let old: string | undefined;
    try {
      old = readFileSync(join(OUT, name), "utf8");
    } catch {
      old = undefined;
    }
    if (old !== text) {
      differs++;
      if (!check) writeFileSync(join(OUT, name), text);
    }
  }
  if (check && differs > 0) {
    process.stderr.write(`${differs} heads vector files differ from the generator\n`);
    process.exit(1);
  }
  process.stdout.write(`${vectors.length} heads vectors\n`);
}
await main();
