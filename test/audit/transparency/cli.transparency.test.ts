import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog, openFileAuditStore, userChainId } from "../../../src/audit/index.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { checkCheckpointFile, openCheckpointCheck } from "../../../src/cli/audit-monitor.js";
import { transparencyCommands } from "../../../src/cli/audit-transparency.js";
import type { CliIo } from "../../../src/cli/io.js";
import { runCli } from "../../../src/cli/run.js";
import { hostIdentity, runAs } from "../../../src/guard/index.js";

function fakeIo(cwd: string, env: Record<string, string> = {}) {
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
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: { ...env }, cwd };
  return { io, out: () => out, err: () => err };
}

const group = { summary: "transparency", commands: transparencyCommands };
async function run(dir: string, argv: string[], env: Record<string, string> = {}) {
  const t = fakeIo(dir, env);
  const code = await runCli(["audit", ...argv], t.io, { audit: async () => group });
  return { code, out: t.out(), err: t.err(), io: t.io };
}

const CHAIN = userChainId("alice");
let dir = "";

async function append(n: number, from: number): Promise<void> {
  const store = await openFileAuditStore(join(dir, "audit.jsonl"));
  const log = new AuditLog({ store }); // no tree nodes: the CLI rebuilds the tree from entries
  await runAs(hostIdentity("alice"), async () => {
    for (let i = 0; i < n; i++)
      await log.appendEntry(CHAIN, {
        action: "killswitch.fired",
        payload: { scope: `s${from + i}`, reason: "r" },
      });
  });
  await store.close?.();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-tcli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("keywarden audit transparency commands", () => {
  it("keygen, checkpoint, check-checkpoint, prove, verify-receipt, witness: end to end", async () => {
    const kg = await run(dir, ["keygen", "--name", "audit.example.com", "--out", "log.key"]);
    expect(kg.code).toBe(0);
    const vkey = kg.out.trim();
    expect(vkey).toMatch(/^audit\.example\.com\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    expect((await stat(join(dir, "log.key"))).mode & 0o777).toBe(0o600);
    expect(kg.out).not.toContain("PRIVATE");
    expect(
      (await run(dir, ["keygen", "--name", "audit.example.com", "--out", "log.key"])).code,
    ).toBe(1);

    await append(7, 0);
    const base = ["--store", "file:audit.jsonl", "--chain", CHAIN];
    expect(
      (
        await run(dir, [
          "checkpoint",
          ...base,
          "--log-name",
          "audit.example.com",
          "--key",
          "log.key",
          "--out",
          "cp1",
        ])
      ).code,
    ).toBe(0);
    expect((await readFile(join(dir, "cp1"), "utf8")).split("\n").slice(0, 2)).toEqual([
      "audit.example.com/keywarden/user:alice",
      "7",
    ]);
    const first = await run(dir, [
      "check-checkpoint",
      "--checkpoint",
      "cp1",
      "--vkey",
      vkey,
      "--state",
      "state.json",
    ]);
    expect([first.code, first.out]).toEqual([
      0,
      "checkpoint ok (first-run): audit.example.com/keywarden/user:alice, 7 entries\n",
    ]);

    await append(3, 7);
    const keyText = await readFile(join(dir, "log.key"), "utf8");
    const signed = await run(
      dir,
      [
        "checkpoint",
        ...base,
        "--log-name",
        "audit.example.com",
        "--key-env",
        "LOGKEY",
        "--out",
        "cp2",
      ],
      { LOGKEY: keyText },
    );
    expect(signed.code).toBe(0);
    expect(signed.io.env.LOGKEY).toBeUndefined();
    expect(
      (
        await run(dir, [
          "check-checkpoint",
          "--checkpoint",
          "cp2",
          "--vkey",
          vkey,
          "--state",
          "state.json",
        ])
      ).code,
    ).toBe(1);
    expect((await run(dir, ["prove", ...base, "--from", "7", "--out", "p7"])).code).toBe(0);
    const grew = await run(dir, [
      "check-checkpoint",
      "--checkpoint",
      "cp2",
      "--vkey",
      vkey,
      "--state",
      "state.json",
      "--proof",
      "p7",
      "--json",
    ]);
    expect(grew.code).toBe(0);
    expect(JSON.parse(grew.out)).toMatchObject({ ok: true, status: "grew", size: 10 });
    const rollback = await run(dir, [
      "check-checkpoint",
      "--checkpoint",
      "cp1",
      "--vkey",
      vkey,
      "--state",
      "state.json",
    ]);
    expect(rollback.code).toBe(1);
    expect(rollback.err).toContain("TRUNCATED");

    // The proof `prove --from` printed, checked on its own between the two checkpoints' roots.
    const rootOf = async (f: string) => (await readFile(join(dir, f), "utf8")).split("\n")[2] ?? "";
    const [root7, root10] = [await rootOf("cp1"), await rootOf("cp2")];
    const okRun = await run(dir, [
      "verify-consistency",
      "--from",
      "7",
      "--to",
      "10",
      "--old-root",
      root7,
      "--new-root",
      root10,
      "--proof",
      "p7",
      "--json",
    ]);
    expect([okRun.code, JSON.parse(okRun.out).ok]).toEqual([0, true]);
    const swapped = await run(dir, [
      "verify-consistency",
      "--from",
      "7",
      "--to",
      "10",
      "--old-root",
      root10,
      "--new-root",
      root7,
      "--proof",
      "p7",
      "--json",
    ]);
    expect([swapped.code, JSON.parse(swapped.out).reason]).toEqual([1, "inconsistent"]);

    expect((await run(dir, ["prove", ...base, "--seq", "8", "--out", "r8"])).code).toBe(0);
    const vr = await run(dir, ["verify-receipt", "r8", "--vkey", vkey, "--json"]);
    expect(vr.code).toBe(0);
    expect(JSON.parse(JSON.parse(vr.out).entry).seq).toBe(8);
    await writeFile(
      join(dir, "r8bad"),
      (await readFile(join(dir, "r8"), "utf8")).replace("index 8", "index 7"),
    );
    const bad = await run(dir, ["verify-receipt", "r8bad", "--vkey", vkey]);
    expect([bad.code, bad.err]).toEqual([
      1,
      "keywarden: ERR_AUDIT_PROOF_INVALID: inclusion proof verification failed\n",
    ]);

    const wk = await run(dir, [
      "keygen",
      "--name",
      "witness.example",
      "--out",
      "w.key",
      "--cosigner",
    ]);
    const wvkey = wk.out.trim();
    expect(wvkey).toMatch(/^witness\.example\+[0-9a-f]{8}\+B/);
    const w = ["witness", "--log-vkey", vkey, "--state", "ws.json", "--key", "w.key"];
    expect((await run(dir, [...w, "--checkpoint", "cp1", "--out", "cos1"])).code).toBe(0);
    const refused = await run(dir, [...w, "--checkpoint", "cp2"]);
    expect([refused.code, refused.err]).toEqual([
      1,
      "witness refused: proof-invalid (last seen size 7)\n",
    ]);
    expect(
      (await run(dir, [...w, "--checkpoint", "cp2", "--proof", "p7", "--out", "cos2"])).code,
    ).toBe(0);
    const quorum = await run(dir, [
      "check-checkpoint",
      "--checkpoint",
      "cos2",
      "--vkey",
      vkey,
      "--state",
      "s2.json",
      "--witness",
      wvkey,
      "--quorum",
      "1",
    ]);
    expect(quorum.out).toContain("1 witness cosignatures");
    const noQuorum = await run(dir, [
      "check-checkpoint",
      "--checkpoint",
      "cp2",
      "--vkey",
      vkey,
      "--state",
      "s3.json",
      "--witness",
      wvkey,
      "--quorum",
      "1",
    ]);
    expect(noQuorum.code).toBe(1);
    expect(noQuorum.err).toContain("witness quorum");
  });

  it("every command has --help; bad usage exits 2", async () => {
    for (const name of Object.keys(transparencyCommands)) {
      const h = await run(dir, [name, "--help"]);
      expect(h.code).toBe(0);
      expect(h.out).toContain(`keywarden audit ${name}`);
    }
    expect((await run(dir, ["prove", "--chain", CHAIN, "--store", "file:audit.jsonl"])).code).toBe(
      2,
    );
  });
});

describe("checkCheckpointFile (for `audit verify --checkpoint`)", () => {
  it("Precondition: a checkpoint for another chain than the export's is rejected.", async () => {
    // cp2 and log.key were written by the end-to-end test above (same directory)
    const vkey = (await LocalEd25519Signer.fromKeyFile(join(dir, "log.key"))).verifierKey;
    const t = fakeIo(dir);
    expect(
      await checkCheckpointFile({ checkpoint: "cp2", vkey: [vkey] }, t.io, undefined, "user:bob"),
    ).toMatchObject({
      ok: false,
      reason: "origin-mismatch",
    });
    expect(
      await checkCheckpointFile({ checkpoint: "cp2", vkey: [vkey] }, t.io, undefined, CHAIN),
    ).toMatchObject({ ok: true, size: 10 });
  });

  it("checks the export's entry hashes against the checkpoint: ok, cut short (truncated), altered (rewritten)", async () => {
    const vkey = (await LocalEd25519Signer.fromKeyFile(join(dir, "log.key"))).verifierKey;
    const store = await openFileAuditStore(join(dir, "audit.jsonl"), { readOnly: true });
    const hashes: Uint8Array[] = [];
    for await (const e of store.read(CHAIN, 0))
      hashes.push(new Uint8Array(Buffer.from(e.hash, "hex")));
    await store.close?.();
    const t = fakeIo(dir);
    const values = { checkpoint: "cp2", vkey: [vkey], state: "export-state.json" };
    expect(await checkCheckpointFile(values, t.io, hashes, CHAIN)).toMatchObject({
      ok: true,
      status: "first-run",
      size: 10,
    });
    expect(await checkCheckpointFile(values, t.io, hashes.slice(0, 9), CHAIN)).toMatchObject({
      ok: false,
      reason: "truncated",
    });
    const altered = hashes.map((h, i) => (i === 4 ? new Uint8Array(32) : h));
    expect(await checkCheckpointFile(values, t.io, altered, CHAIN)).toMatchObject({
      ok: false,
      reason: "rewritten",
    });
    // the streaming form, as `audit verify` would feed it
    const check = await openCheckpointCheck(values, t.io, CHAIN);
    check.expectLeaves();
    for (const h of hashes) check.push(h);
    expect(await check.finish("user:bob")).toMatchObject({ ok: false, reason: "origin-mismatch" });
    expect(await check.finish(CHAIN)).toMatchObject({ ok: true, status: "unchanged" });
  });

  it("a new signing key cannot sign over checkpoints of the old one (no silent key swap)", async () => {
    expect(
      (await run(dir, ["keygen", "--name", "audit.example.com", "--out", "log2.key"])).code,
    ).toBe(0);
    const r = await run(dir, [
      "checkpoint",
      "--store",
      "file:audit.jsonl",
      "--chain",
      CHAIN,
      "--log-name",
      "audit.example.com",
      "--key",
      "log2.key",
    ]);
    expect([r.code, r.err]).toEqual([
      1,
      "keywarden: ERR_AUDIT_CHECKPOINT_INVALID: signed note verification failed\n",
    ]);
  });
});
