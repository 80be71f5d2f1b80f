import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog, openFileAuditStore, userChainId } from "../../../src/audit/index.js";
import { audit } from "../../../src/cli/audit.js";
import type { CliIo } from "../../../src/cli/io.js";
import { runCli } from "../../../src/cli/run.js";
import { hostIdentity, runAs } from "../../../src/guard/index.js";

async function run(dir: string, argv: string[], env: Record<string, string> = {}) {
  const stdout = Object.assign(new PassThrough(), { isTTY: false });
  const stderr = Object.assign(new PassThrough(), { isTTY: false });
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: { ...env }, cwd: dir };
  const code = await runCli(["audit", ...argv], io, { audit: async () => audit });
  return { code, out, err, io };
}

const CHAIN = userChainId("carol");
let dir = "";
let vkey = "";
let otherVkey = "";
let keyText = "";
/** Everything any command printed, to check the private key never shows up. */
const printed: string[] = [];

async function cli(argv: string[], env: Record<string, string> = {}) {
  const r = await run(dir, argv, env);
  printed.push(r.out, r.err);
  return r;
}

const exportArgs = (format: string, out: string) => [
  "export",
  "--store",
  "file:audit.jsonl",
  "--chain",
  CHAIN,
  "--format",
  format,
  "--out",
  out,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-signed-manifest-"));
  const store = await openFileAuditStore(join(dir, "audit.jsonl"));
  await runAs(hostIdentity("carol"), async () => {
    const log = new AuditLog({ store });
    for (let i = 0; i < 5; i++)
      await log.appendEntry(CHAIN, { action: "key.deleted", payload: { credentialId: `c${i}` } });
  });
  await store.close();
  vkey = (await cli(["keygen", "--name", "audit.example.com", "--out", "log.key"])).out.trim();
  otherVkey = (
    await cli(["keygen", "--name", "audit.example.com", "--out", "other.key"])
  ).out.trim();
  keyText = await readFile(join(dir, "log.key"), "utf8");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("keywarden audit export --key / verify --vkey", () => {
  it("signs with --key (JSONL) and --key-env (CSV); verify --vkey checks the signature", async () => {
    expect((await cli([...exportArgs("jsonl", "signed.jsonl"), "--key", "log.key"])).code).toBe(0);
    const env = await cli(
      [...exportArgs("csv", "signed.csv"), "--key-env", "LOGKEY", "--log-name", "logs.example.org"],
      { LOGKEY: keyText },
    );
    expect(env.code).toBe(0);
    expect(env.io.env.LOGKEY).toBeUndefined();
    expect((await stat(join(dir, "signed.csv"))).mode & 0o777).toBe(0o600);

    const ok = await cli(["verify", "signed.jsonl", "--vkey", vkey]);
    expect([ok.code, ok.err]).toEqual([0, ""]);
    expect(ok.out).toBe(
      `valid: user:carol, 5 entries, head ${JSON.parse((await readFile(join(dir, "signed.jsonl"), "utf8")).split("\n")[0] as string).manifest.headHash}\n` +
        "manifest signature: ok (audit.example.com/keywarden/user:carol)\n",
    );
    const csv = await cli(["verify", "signed.csv", "--vkey", otherVkey, "--vkey", vkey]);
    expect(csv.code).toBe(0);
    expect(csv.out).toContain("manifest signature: ok (logs.example.org/keywarden/user:carol)");
    // Without --vkey the signed export verifies as before, and the CLI says the signature was
    // not checked (untrusted is not the same as invalid, nor as valid).
    const unchecked = await cli(["verify", "signed.csv"]);
    expect(unchecked.code).toBe(0);
    expect(unchecked.out).toContain(
      "manifest signature: not checked (give the platform's key with --vkey)",
    );
    expect(unchecked.out).not.toContain("manifest signature: ok");
  });

  it("rejects a wrong key, a tampered manifest and (fail closed) an unsigned export", async () => {
    const wrong = await cli(["verify", "signed.jsonl", "--vkey", otherVkey]);
    expect([wrong.code, wrong.err]).toEqual([
      1,
      "BROKEN at seq 0 (line 1): manifest-signature: manifest signature verification failed\n",
    ]);
    const text = await readFile(join(dir, "signed.jsonl"), "utf8");
    await writeFile(join(dir, "tampered.jsonl"), text.replace('"size":5', '"size":4'));
    const tampered = await cli(["verify", "tampered.jsonl", "--vkey", vkey, "--json"]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.out)).toMatchObject({
      ok: false,
      seq: 0,
      line: 1,
      reason: "manifest-signature",
    });

    expect((await cli(exportArgs("jsonl", "plain.jsonl"))).code).toBe(0);
    expect((await cli(["verify", "plain.jsonl"])).code).toBe(0);
    const unsigned = await cli(["verify", "plain.jsonl", "--vkey", vkey]);
    expect([unsigned.code, unsigned.err]).toEqual([
      1,
      "BROKEN at seq 0 (line 1): manifest-signature: manifest is not signed\n",
    ]);
    const badKey = await cli(["verify", "signed.jsonl", "--vkey", "not-a-key"]);
    expect(badKey.code).toBe(1);
    expect(badKey.err).toContain("invalid verifier key");
  });

  it("with --checkpoint, the same --vkey checks both the checkpoint and a signed manifest", async () => {
    const cp = await cli([
      "checkpoint",
      "--store",
      "file:audit.jsonl",
      "--chain",
      CHAIN,
      "--log-name",
      "audit.example.com",
      "--key",
      "log.key",
      "--out",
      "cp",
    ]);
    expect(cp.code).toBe(0);
    const both = await cli(["verify", "signed.jsonl", "--checkpoint", "cp", "--vkey", vkey]);
    expect(both.code).toBe(0);
    expect(both.out).toContain("manifest signature: ok (audit.example.com/keywarden/user:carol)");
    expect(both.out).toContain("checkpoint: checkpoint ok");
    // The checkpoint authenticates the entries, so an unsigned manifest is accepted here...
    const plain = await cli(["verify", "plain.jsonl", "--checkpoint", "cp", "--vkey", vkey]);
    expect(plain.code).toBe(0);
    expect(plain.out).toContain("manifest: unsigned");
    // ...but a manifest signature that no given key verifies is not.
    expect((await cli([...exportArgs("jsonl", "other.jsonl"), "--key", "other.key"])).code).toBe(0);
    const other = await cli(["verify", "other.jsonl", "--checkpoint", "cp", "--vkey", vkey]);
    expect(other.code).toBe(1);
    expect(other.err).toContain("manifest-signature");
  });

  it("bad usage exits 2", async () => {
    expect((await cli(["verify", "signed.jsonl", "--witness", vkey])).code).toBe(2);
    expect((await cli([...exportArgs("jsonl", "x.jsonl"), "--log-name", "a.example"])).code).toBe(
      2,
    );
    expect(
      (
        await cli([...exportArgs("jsonl", "x.jsonl"), "--key", "log.key", "--key-env", "K"], {
          K: keyText,
        })
      ).code,
    ).toBe(2);
    const help = await cli(["export", "--help"]);
    expect(help.out).toContain("--key FILE");
  });

  it("canary: the signing key appears in no export, error or output", async () => {
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
    const bad = await cli([...exportArgs("jsonl", "canary.jsonl"), "--key-env", "BADKEY"], {
      BADKEY: `PRIVATE+KEY+audit.example.com+00000000+${canary}`,
    });
    expect(bad.code).toBe(1);
    expect(bad.io.env.BADKEY).toBeUndefined();
    await expect(stat(join(dir, "canary.jsonl"))).rejects.toThrow();
    const missing = await cli([...exportArgs("jsonl", "m.jsonl"), "--key-env", "NOPE"]);
    expect(missing.code).toBe(1);

    // PRIVATE+KEY+<name>+<hash>+<base64>: the base64 part may itself contain "+".
    const seedPart = keyText.trim().split("+").slice(4).join("+");
    expect(seedPart.length).toBeGreaterThan(40);
    const files = ["signed.jsonl", "signed.csv", "other.jsonl", "cp"];
    for (const f of files) {
      const content = await readFile(join(dir, f), "utf8");
      expect(content).not.toContain(seedPart);
      expect(content).not.toContain("PRIVATE");
    }
    for (const s of printed) {
      expect(s).not.toContain(seedPart);
      expect(s).not.toContain(canary);
      expect(s).not.toContain("PRIVATE+KEY");
    }
  });
});
