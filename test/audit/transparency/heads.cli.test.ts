import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { toBase64 } from "../../../src/audit/primitives/index.js";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { HeadsLog } from "../../../src/audit/transparency/heads/index.js";
import { parseVerifierKey, signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  createCosigner,
  MemoryWitnessState,
  witnessCheckpoint,
} from "../../../src/audit/transparency/witness.js";
import { transparencyCommands } from "../../../src/cli/audit-transparency.js";
import type { CliIo } from "../../../src/cli/io.js";
import { runCli } from "../../../src/cli/run.js";
import { Secret } from "../../../src/secret.js";

const HEADS = "audit.example.com/keywarden-heads";
const CHAIN = "audit.example.com/keywarden/user:alice";
let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: dir };
  const code = await runCli(["audit", ...argv], io, {
    audit: async () => ({ summary: "", commands: transparencyCommands }),
  });
  return { code, out, err };
}

describe("keywarden audit verify-heads-receipt", () => {
  it("verifies through the witnessed heads log, remembers state, and reports a FORK", async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-heads-cli-"));
    const { signer: headsSigner } = LocalEd25519Signer.generate(HEADS);
    const { signer: chainSigner } = LocalEd25519Signer.generate(CHAIN);
    const cosigner = createCosigner(LocalEd25519Signer.generate("witness.example").signer);
    const wstate = new MemoryWitnessState();
    const headsKey = parseVerifierKey(headsSigner.verifierKey);
    const heads = await HeadsLog.open({
      dir: join(dir, "heads"),
      origin: HEADS,
      signer: headsSigner,
      headsSecret: Secret.copyOf(new Uint8Array(32).fill(5)),
      cosign: async (note, proofFrom, oldSize) => {
        const r = await witnessCheckpoint({
          note,
          proof: await proofFrom(oldSize),
          logs: { [HEADS]: [headsKey] },
          state: wstate,
          cosigner,
        });
        if (!r.ok) throw new Error(r.reason);
        return r.note;
      },
    });
    const publishChain = async (root: number, name: string) => {
      const rootHash = new Uint8Array(32).fill(root);
      const note = await signNote(
        formatCheckpoint({
          origin: CHAIN,
          size: 5,
          rootHash,
          timestamp: 1000 + root,
          extensions: [],
        }),
        [chainSigner],
      );
      await writeFile(join(dir, `${name}.cp`), note);
      const pos = heads.enqueue({ origin: CHAIN, size: 5, rootHash, timestamp: 1000 + root });
      const batch = await heads.integrate();
      await writeFile(
        join(dir, `${name}.receipt`),
        await heads.receipt((batch?.firstIndex ?? 0) + pos),
      );
    };
    await publishChain(1, "a");
    const common = [
      "--vkey",
      chainSigner.verifierKey,
      "--heads-vkey",
      headsSigner.verifierKey,
      "--witness",
      cosigner.verifierKey,
      "--quorum",
      "1",
      "--heads-origin",
      HEADS,
      "--heads-state",
      "state.json",
    ];
    const chainKey = toBase64(heads.chainKey(CHAIN));
    const ok = await run([
      "verify-heads-receipt",
      "a.receipt",
      "--checkpoint",
      "a.cp",
      "--chain-key",
      chainKey,
      ...common,
    ]);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`heads receipt ok: ${CHAIN} at size 5 is leaf 0 of ${HEADS}`);
    expect(JSON.parse(await readFile(join(dir, "state.json"), "utf8"))).toMatchObject({
      headsIndex: 0,
      size: 5,
    });

    // The operator records another root for the same size: the user's state catches it.
    await publishChain(2, "b");
    const fork = await run([
      "verify-heads-receipt",
      "b.receipt",
      "--checkpoint",
      "b.cp",
      "--chain-key",
      chainKey,
      "--json",
      ...common,
    ]);
    expect(fork.code).toBe(1);
    expect(JSON.parse(fork.out)).toMatchObject({ ok: false, finding: "fork" });

    // Another user's key does not verify the receipt.
    const other = toBase64(heads.chainKey("audit.example.com/keywarden/user:bob"));
    const bad = await run([
      "verify-heads-receipt",
      "a.receipt",
      "--checkpoint",
      "a.cp",
      "--chain-key",
      other,
      ...common,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("ERR_AUDIT_PROOF_INVALID");
    expect(bad.err).toContain("(not-this-chain)");
    // With --json the failing step is named as data, next to the stable code.
    const badJson = await run([
      "verify-heads-receipt",
      "a.receipt",
      "--checkpoint",
      "a.cp",
      "--chain-key",
      other,
      "--json",
      ...common,
    ]);
    expect(badJson.code).toBe(1);
    expect(JSON.parse(badJson.out)).toMatchObject({
      ok: false,
      reason: "not-this-chain",
      code: "ERR_AUDIT_PROOF_INVALID",
    });
    // A heads key that did not sign the heads checkpoint: the signature step fails first.
    const stranger = LocalEd25519Signer.generate(HEADS).signer.verifierKey;
    const wrongKey = await run([
      "verify-heads-receipt",
      "a.receipt",
      "--checkpoint",
      "a.cp",
      "--chain-key",
      chainKey,
      "--json",
      ...common.map((a) => (a === headsSigner.verifierKey ? stranger : a)),
    ]);
    expect(wrongKey.code).toBe(1);
    expect(JSON.parse(wrongKey.out)).toMatchObject({ ok: false, reason: "heads-signature" });
    // A proof hash changed (b's receipt: leaf 1 of 2, so its proof has one hash before the blank
    // line that starts the heads checkpoint): the inclusion step fails.
    const text = await readFile(join(dir, "b.receipt"), "utf8");
    const lines = text.split("\n");
    const proofAt = lines.findIndex((l) => /^[A-Za-z0-9+/]{43}=$/.test(l));
    expect(proofAt).toBeGreaterThan(0);
    expect(proofAt).toBeLessThan(lines.indexOf(""));
    const flipped = lines[proofAt] as string;
    lines[proofAt] = (flipped[0] === "A" ? "B" : "A") + flipped.slice(1);
    await writeFile(join(dir, "tampered.receipt"), lines.join("\n"));
    const tampered = await run([
      "verify-heads-receipt",
      "tampered.receipt",
      "--checkpoint",
      "b.cp",
      "--chain-key",
      chainKey,
      "--json",
      ...common,
    ]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.out)).toMatchObject({ ok: false, reason: "inclusion" });
    // A quorum the heads checkpoint cannot meet is a usage error.
    const q = await run([
      "verify-heads-receipt",
      "a.receipt",
      "--checkpoint",
      "a.cp",
      "--chain-key",
      chainKey,
      ...common,
      "--quorum",
      "2",
    ]);
    expect(q.code).toBe(2);
  });
});
