import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { kms } from "../../src/cli/kms.js";
import { runCli } from "../../src/cli/run.js";
import { LocalKms } from "../../src/vault/kms/local.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function io(cwd: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (b) => out.push(String(b)));
  stderr.on("data", (b) => err.push(String(b)));
  const value: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd };
  return { value, out: () => out.join(""), err: () => err.join("") };
}
const run = (argv: string[], cwd: string) => {
  const o = io(cwd);
  return runCli(argv, o.value, { kms: async () => kms }).then((code) => ({
    code,
    out: o.out(),
    err: o.err(),
  }));
};

describe("keywarden kms", () => {
  it("init creates a 0600 master key file that LocalKms opens, and never prints the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-cli-"));
    dirs.push(dir);
    const r = await run(["kms", "init", "--out", "master.key"], dir);
    expect(r.code).toBe(0);
    const path = join(dir, "master.key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const keyText = readFileSync(path, "utf8").split(" ")[1]?.trim() as string;
    expect(r.out + r.err).not.toContain(keyText);
    expect(LocalKms.fromKeyFile(path).keyId).toMatch(/^[0-9a-f]{16}$/);
    const again = await run(["kms", "init", "--out", "master.key"], dir);
    expect(again.code).toBe(1);
    expect(again.err).toContain("ERR_KMS_MASTER_KEY");
  });

  it("policy prints the trust and key policies as JSON", async () => {
    const r = await run(
      [
        "kms",
        "policy",
        "--account",
        "111122223333",
        "--oidc-provider",
        "auth.example.com",
        "--audience",
        "trading-api",
        "--session-role",
        "kw-session",
        "--grant-role",
        "kw-grants",
        "--key-admin",
        "arn:aws:iam::111122223333:role/kms-admin",
      ],
      tmpdir(),
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.trustPolicy.Statement[0].Principal.Federated).toBe(
      "arn:aws:iam::111122223333:oidc-provider/auth.example.com",
    );
    const sids = out.keyPolicy.Statement.map((s: { Sid: string }) => s.Sid);
    expect(sids).toContain("NobodyElseMayUseTheKey");
    expect(JSON.stringify(out.keyPolicy)).toContain(["$", "{aws:PrincipalTag/userId}"].join(""));
  });

  it("policy without required options prints usage and exits 2", async () => {
    const r = await run(["kms", "policy", "--account", "111122223333"], tmpdir());
    expect(r.code).toBe(2);
    expect(r.err).toContain("Usage: keywarden kms policy");
  });
});
