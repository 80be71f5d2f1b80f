/**
 * The transparency part of the audit conformance vectors (format §10, §11, §13): signed
 * checkpoints, consistency proofs and receipts. Merkle roots and proofs come from the reference
 * definitions of RFC 9162 §2.1 written out below (MTH, PATH, PROOF), not from the library.
 */
import { createHash } from "node:crypto";
import type { NoteSigner } from "../src/audit/transparency/index.js";
import { signNote } from "../src/audit/transparency/index.js";

const h = (...parts: Uint8Array[]) =>
  new Uint8Array(createHash("sha256").update(Buffer.concat(parts)).digest());
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const leafOf = (i: number) => h(Uint8Array.of(0), Buffer.from(`{"example":${i}}`));
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafOf(i));
/** Largest power of two strictly smaller than n (n >= 2). */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 9162 §2.1.1 MTH over leaf hashes (the entry hash is the leaf hash, format §10). */
export function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return h();
  if (d.length === 1) return d[0] as Uint8Array;
  const k = split(d.length);
  return h(Uint8Array.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
}
/** RFC 9162 §2.1.3.1 PATH(m, D[n]). */
export function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k
    ? [...path(m, d.slice(0, k)), mth(d.slice(k))]
    : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
function proof(m: number, d: Uint8Array[]): Uint8Array[] {
  const sub = (m: number, d: Uint8Array[], b: boolean): Uint8Array[] => {
    const n = d.length;
    if (m === n) return b ? [] : [mth(d)];
    const k = split(n);
    return m <= k
      ? [...sub(m, d.slice(0, k), b), mth(d.slice(k))]
      : [...sub(m - k, d.slice(k), false), mth(d.slice(0, k))];
  };
  return m === 0 ? [] : sub(m, d, true);
}

export type TransparencyVector =
  | {
      id: string;
      comment: string;
      section: string;
      kind: "consistency";
      input: { size1: number; size2: number; root1: string; root2: string; proof: string[] };
      trusted: Record<string, never>;
      result: { valid: boolean };
    }
  | {
      id: string;
      comment: string;
      section: string;
      kind: "checkpoint" | "receipt";
      input: { text: string };
      trusted: { logKeys: string[]; origin?: string; leafHash?: string };
      result:
        | { valid: true; origin: string; size: number; root: string; index?: number }
        | { valid: false; error: string };
    };

export async function transparencyVectors(
  log: NoteSigner & { verifierKey: string },
  other: NoteSigner & { verifierKey: string },
): Promise<TransparencyVector[]> {
  const out: TransparencyVector[] = [];
  const origin = "audit.example.com/keywarden/user:alice";
  // ------------------------------------------------ consistency proofs, sizes 0, 1, 2, 2^k±1
  const sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17];
  for (const n2 of sizes)
    for (const n1 of sizes) {
      if (n1 > n2 || (n2 > 9 && ![0, 1, n2 - 1, n2, 8].includes(n1))) continue;
      const d = leaves(n2);
      const p = proof(n1, d);
      const input = {
        size1: n1,
        size2: n2,
        root1: b64(mth(d.slice(0, n1))),
        root2: b64(mth(d)),
        proof: p.map(b64),
      };
      out.push({
        id: `consistency-${n1}-${n2}`,
        comment: `a valid consistency proof from size ${n1} to ${n2}`,
        section: "§10",
        kind: "consistency",
        input,
        trusted: {},
        result: { valid: true },
      });
      if (p.length > 0) {
        const tampered = [...input.proof];
        tampered[0] = b64(h(Buffer.from("x")));
        out.push({
          id: `consistency-${n1}-${n2}-tampered`,
          comment: `the first proof hash replaced (${n1} → ${n2})`,
          section: "§10",
          kind: "consistency",
          input: { ...input, proof: tampered },
          trusted: {},
          result: { valid: false },
        });
        out.push({
          id: `consistency-${n1}-${n2}-short`,
          comment: `the last proof hash dropped (${n1} → ${n2})`,
          section: "§10",
          kind: "consistency",
          input: { ...input, proof: input.proof.slice(0, -1) },
          trusted: {},
          result: { valid: false },
        });
      }
      if (n2 > 0 && n1 > 0 && n1 < n2)
        out.push({
          id: `consistency-${n1}-${n2}-forked`,
          comment: `the old root is of another history (${n1} → ${n2})`,
          section: "§10 §14",
          kind: "consistency",
          input: { ...input, root1: b64(h(Buffer.from("fork"))) },
          trusted: {},
          result: { valid: false },
        });
    }
  {
    const d = leaves(5);
    const base = { root1: b64(mth(d)), root2: b64(mth(d)) };
    out.push({
      id: "consistency-equal-nonempty-proof",
      comment: "equal sizes need an empty proof",
      section: "§10",
      kind: "consistency",
      input: { size1: 5, size2: 5, ...base, proof: [b64(d[0] as Uint8Array)] },
      trusted: {},
      result: { valid: false },
    });
    out.push({
      id: "consistency-zero-nonempty-proof",
      comment: "a proof from size 0 is empty",
      section: "§10",
      kind: "consistency",
      input: { size1: 0, size2: 5, root1: b64(h()), root2: base.root2, proof: [b64(mth(d))] },
      trusted: {},
      result: { valid: false },
    });
    out.push({
      id: "consistency-zero-wrong-root",
      comment: "from size 0 the old root must be MTH({})",
      section: "§10",
      kind: "consistency",
      input: { size1: 0, size2: 5, root1: base.root1, root2: base.root2, proof: [] },
      trusted: {},
      result: { valid: false },
    });
    out.push({
      id: "consistency-shrink",
      comment: "a smaller new tree (truncation) has no proof",
      section: "§10 §14",
      kind: "consistency",
      input: {
        size1: 5,
        size2: 3,
        root1: base.root1,
        root2: b64(mth(d.slice(0, 3))),
        proof: proof(3, d).map(b64),
      },
      trusted: {},
      result: { valid: false },
    });
    out.push({
      id: "consistency-short-hash",
      comment: "a proof hash of 31 bytes",
      section: "§10",
      kind: "consistency",
      input: {
        size1: 3,
        size2: 5,
        root1: b64(mth(d.slice(0, 3))),
        root2: base.root2,
        proof: proof(3, d).map((x, i) => b64(i === 0 ? x.subarray(1) : x)),
      },
      trusted: {},
      result: { valid: false },
    });
  }

  // ------------------------------------------------ signed checkpoints (§11)
  const body = (size: number, extra = "keywarden-time 1764400000\n", o = origin) =>
    `${o}\n${size}\n${b64(mth(leaves(size)))}\n${extra}`;
  const cp = (
    id: string,
    comment: string,
    text: string,
    result: TransparencyVector["result"],
    trusted: { logKeys: string[]; origin?: string } = { logKeys: [log.verifierKey] },
  ) =>
    out.push({
      id: `checkpoint-${id}`,
      comment,
      section: "§11",
      kind: "checkpoint",
      input: { text },
      trusted,
      result,
    } as TransparencyVector);
  const ok = (size: number, o = origin) => ({
    valid: true as const,
    origin: o,
    size,
    root: b64(mth(leaves(size))),
  });
  const invalid = { valid: false as const, error: "ERR_AUDIT_CHECKPOINT_INVALID" };
  for (const size of [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17])
    cp(
      `valid-size-${size}`,
      `a signed checkpoint of a tree of ${size}`,
      await signNote(body(size), [log]),
      ok(size),
    );
  cp("valid-no-time", "no keywarden-time line", await signNote(body(5, ""), [log]), ok(5));
  cp(
    "valid-other-extension",
    "an unknown extension line is kept",
    await signNote(body(5, "keywarden-time 1764400000\nx-ext 1\n"), [log]),
    ok(5),
  );
  cp(
    "valid-two-signers",
    "a second signature by an unknown key is ignored",
    await signNote(body(5), [log, other]),
    ok(5),
  );
  cp(
    "valid-origin-given",
    "the origin the verifier expects",
    await signNote(body(5), [log]),
    ok(5),
    { logKeys: [log.verifierKey], origin },
  );
  cp(
    "origin-other",
    "a checkpoint of another origin than the expected one",
    await signNote(body(5, undefined, "audit.example.com/keywarden/user:bob"), [log]),
    invalid,
    { logKeys: [log.verifierKey], origin },
  );
  cp(
    "untrusted-key",
    "signed only by a key that is not trusted",
    await signNote(body(5), [other]),
    invalid,
  );
  const good = await signNote(body(5), [log]);
  cp(
    "bad-signature",
    "a trusted key's signature that fails",
    good.replace(/[A-Za-z](?==\n$|[A-Za-z0-9+/]{3}=\n$)/, (c) => (c === "A" ? "B" : "A")),
    invalid,
  );
  cp("body-tampered", "the size changed after signing", good.replace("\n5\n", "\n6\n"), invalid);
  cp(
    "leading-zero",
    "a size with a leading zero",
    await signNote(body(5).replace("\n5\n", "\n05\n"), [log]),
    invalid,
  );
  cp(
    "root-short",
    "a root of 31 bytes",
    await signNote(`${origin}\n5\n${b64(mth(leaves(5)).subarray(1))}\n`, [log]),
    invalid,
  );
  cp(
    "root-noncanonical-base64",
    "a root in base64 without padding",
    await signNote(`${origin}\n5\n${b64(mth(leaves(5))).replace("=", "")}\n`, [log]),
    invalid,
  );
  cp(
    "time-leading-zero",
    "a time with a leading zero",
    await signNote(body(5, "keywarden-time 01764400000\n"), [log]),
    invalid,
  );
  cp(
    "time-twice",
    "two time lines",
    await signNote(body(5, "keywarden-time 1764400000\nkeywarden-time 1764400001\n"), [log]),
    invalid,
  );
  cp(
    "empty-extension",
    "an empty extension line",
    await signNote(body(5, "keywarden-time 1764400000\n\nx\n"), [log]),
    invalid,
  );
  cp(
    "origin-space",
    "an origin with a space",
    await signNote(body(5, undefined, "audit example"), [log]),
    invalid,
  );
  cp(
    "origin-plus",
    "an origin with a +",
    await signNote(body(5, undefined, "audit+example"), [log]),
    invalid,
  );
  cp("crlf", "CR LF line ends", good.replaceAll("\n", "\r\n"), invalid);
  cp("no-signature", "the text without signature lines", `${body(5)}\n`, invalid);
  cp(
    "export-as-checkpoint",
    "a JSON Lines export line given as a checkpoint",
    '{"manifest":{"chainId":"user:alice"}}\n',
    invalid,
  );
  cp("empty", "an empty file", "", invalid);

  // ------------------------------------------------ receipts (§13)
  const note5 = await signNote(body(5), [log]);
  const receipt = (
    index: number,
    size: number,
    note: string,
    extraBody: string | null = `{"example":${index}}`,
    p = path(index, leaves(size)),
  ) =>
    `c2sp.org/tlog-proof@v1\n${extraBody === null ? "" : `extra ${b64(Buffer.from(extraBody))}\n`}index ${index}\n${p.map((x) => `${b64(x)}\n`).join("")}\n${note}`;
  const rc = (
    id: string,
    comment: string,
    text: string,
    result: TransparencyVector["result"],
    trusted: { logKeys: string[]; leafHash?: string } = { logKeys: [log.verifierKey] },
  ) =>
    out.push({
      id: `receipt-${id}`,
      comment,
      section: "§13",
      kind: "receipt",
      input: { text },
      trusted,
      result,
    } as TransparencyVector);
  const proofBad = { valid: false as const, error: "ERR_AUDIT_PROOF_INVALID" };
  for (const size of [1, 2, 3, 5, 8, 9, 17]) {
    const note = await signNote(body(size), [log]);
    for (const index of [...new Set([0, Math.floor(size / 2), size - 1])])
      rc(
        `valid-${index}-of-${size}`,
        `entry ${index} included in a tree of ${size}`,
        receipt(index, size, note),
        { ...ok(size), index },
      );
  }
  rc(
    "valid-leaf-given",
    "no extra body; the leaf hash comes from the user's copy",
    receipt(3, 5, note5, null),
    { ...ok(5), index: 3 },
    { logKeys: [log.verifierKey], leafHash: Buffer.from(leafOf(3)).toString("hex") },
  );
  rc(
    "extra-differs-from-leaf",
    "an extra body that does not hash to the user's leaf",
    receipt(3, 5, note5),
    proofBad,
    { logKeys: [log.verifierKey], leafHash: Buffer.from(leafOf(2)).toString("hex") },
  );
  rc(
    "wrong-index",
    "the proof of entry 3 claimed for index 2",
    receipt(3, 5, note5).replace("index 3", "index 2"),
    proofBad,
  );
  rc(
    "wrong-body",
    "another body than the proven leaf",
    receipt(3, 5, note5, '{"example":9}'),
    proofBad,
  );
  rc(
    "index-beyond",
    "an index not below the tree size",
    receipt(4, 5, note5).replace("index 4", "index 5"),
    proofBad,
  );
  rc(
    "proof-short",
    "an inclusion proof missing its last hash",
    receipt(3, 5, note5, undefined, path(3, leaves(5)).slice(0, -1)),
    proofBad,
  );
  rc(
    "proof-extra",
    "an inclusion proof with one hash too many",
    receipt(3, 5, note5, undefined, [...path(3, leaves(5)), leafOf(0)]),
    proofBad,
  );
  rc(
    "index-leading-zero",
    "an index with a leading zero",
    receipt(3, 5, note5).replace("index 3", "index 03"),
    proofBad,
  );
  rc(
    "bad-header",
    "another first line",
    receipt(3, 5, note5).replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
    proofBad,
  );
  rc(
    "untrusted-checkpoint",
    "a checkpoint signed by an untrusted key",
    receipt(3, 5, await signNote(body(5), [other])),
    { valid: false, error: "ERR_AUDIT_CHECKPOINT_INVALID" },
  );
  rc(
    "no-blank-line",
    "no blank line before the checkpoint",
    receipt(3, 5, note5).replace("\n\naudit", "\naudit"),
    proofBad,
  );
  return out;
}
