/**
 * The heads-receipt conformance vectors (test/vectors/heads/, docs/audit-format.md §18) through the
 * library: `checkHeadsReceipt` names each vector's expected reason, and `verifyHeadsReceipt`
 * accepts exactly the valid ones. The same vectors run through the browser page
 * (e2e/verifier.heads.e2e.test.ts).
 */
import { describe, expect, it } from "vitest";
import { fromBase64 } from "../../../src/audit/primitives/index.js";
import {
  checkHeadsReceipt,
  parseChainKey,
  verifyHeadsReceipt,
} from "../../../src/audit/transparency/heads/index.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { cosignatureVerifier } from "../../../src/audit/transparency/witness.js";
import { isKeywardenError } from "../../../src/errors.js";
import { type HeadsVector, loadHeadsVectors } from "../heads-vectors.js";

const vectors = loadHeadsVectors();

function optionsOf(v: HeadsVector) {
  return {
    chainKey: parseChainKey(v.trusted.chainKey),
    chain: {
      size: v.chain.size,
      rootHash: fromBase64(v.chain.root) as Uint8Array,
      time: v.chain.time ?? undefined,
    },
    policy: {
      logKeys: v.trusted.headsKeys.map((k) => parseVerifierKey(k)),
      witnesses: v.trusted.witnessKeys.map((k) => cosignatureVerifier(k)),
      quorum: v.trusted.quorum,
      ...(v.trusted.origin === undefined ? {} : { origin: v.trusted.origin }),
    },
  };
}

describe("heads-receipt conformance vectors (library)", () => {
  it("there are valid and invalid vectors for every reason", () => {
    expect(vectors.filter((v) => v.result.valid).length).toBeGreaterThanOrEqual(5);
    const reasons = new Set(vectors.flatMap((v) => (v.result.valid ? [] : [v.result.reason])));
    expect([...reasons].sort()).toEqual(
      [
        "fork",
        "heads-signature",
        "inclusion",
        "malformed",
        "not-this-chain",
        "time-mismatch",
        "witness-quorum",
      ].sort(),
    );
  });

  it.each(vectors.map((v) => [v.id, v] as const))("%s", (_id, v) => {
    const options = optionsOf(v);
    const r = checkHeadsReceipt(v.input.text, options);
    const got = r.ok
      ? {
          valid: true,
          headsOrigin: r.receipt.heads.checkpoint.origin,
          headsSize: r.receipt.heads.checkpoint.size,
          headsIndex: r.receipt.headsIndex,
          witnesses: r.receipt.heads.cosignatures.map((c) => c.name),
        }
      : { valid: false, reason: r.reason };
    expect(got).toEqual(v.result);
    // The throwing form agrees: it accepts exactly the valid vectors, with a stable code.
    let error: unknown;
    try {
      verifyHeadsReceipt(v.input.text, options);
    } catch (e) {
      error = e;
    }
    if (v.result.valid) expect(error).toBeUndefined();
    else
      expect(
        isKeywardenError(error) &&
          ["ERR_AUDIT_PROOF_INVALID", "ERR_AUDIT_CHECKPOINT_INVALID"].includes(error.code),
      ).toBe(true);
  });

  it("the checked-in files are exactly what scripts/gen-heads-vectors.ts generates", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/gen-heads-vectors.ts", "--check"],
      { cwd: new URL("../../..", import.meta.url) },
    );
    expect(stdout).toBe(`${vectors.length} heads vectors\n`);
  }, 60_000);
});

describe("docs/audit-format.md §18 heads receipt example", () => {
  it("the worked example is vector heads-valid-0-of-1, verbatim, and it verifies", async () => {
    const { readFile } = await import("node:fs/promises");
    const doc = await readFile(new URL("../../../docs/audit-format.md", import.meta.url), "utf8");
    const receipt = /<!-- heads-receipt-example -->\n```text\n([\s\S]*?)```/.exec(doc)?.[1];
    const keys = /<!-- heads-receipt-keys -->\n```text\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
    const v = vectors.find((x) => x.id === "heads-valid-0-of-1") as HeadsVector;
    expect(receipt).toBe(v.input.text);
    const field = (name: string) =>
      keys
        .split("\n")
        .filter((l) => l.startsWith(`${name} `))
        .map((l) => l.slice(name.length).trim());
    expect(field("heads key")).toEqual(v.trusted.headsKeys);
    expect(field("witness")).toEqual(v.trusted.witnessKeys);
    expect(field("chain key")).toEqual([v.trusted.chainKey]);
    const r = checkHeadsReceipt(receipt ?? "", optionsOf(v));
    expect(r.ok).toBe(true);
  });
});
