import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog, openFileAuditStore, userChainId } from "../../src/audit/index.js";
import { audit } from "../../src/cli/audit.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import { hostIdentity, runAs } from "../../src/guard/index.js";
import { exportText, sampleLog } from "./helpers.js";

function fakeIo(cwd: string, tty = false) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd };
  return { io, out: () => out, err: () => err };
}

const cli = (argv: string[], io: CliIo) =>
  runCli(["audit", ...argv], io, { audit: async () => audit });

let dir = "";
let good = "";
let goodCsv = "";
let head: { size: number; headHash: string | null };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-audit-cli-"));
  const { log, chainId } = await sampleLog(6, "alice", [1]);
  head = await log.head(chainId);
  good = join(dir, "good.jsonl");
  goodCsv = join(dir, "good.csv");
  await writeFile(good, await exportText(log, chainId, "jsonl"));
  await writeFile(goodCsv, await exportText(log, chainId, "csv"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("keywarden audit verify", () => {
  it("exits 0 for a valid JSONL or CSV file", async () => {
    for (const file of [good, goodCsv]) {
      const t = fakeIo(dir);
      expect(await cli(["verify", file], t.io)).toBe(0);
      expect(t.out()).toContain(`valid: user:alice, 6 entries, head ${head.headHash}, 1 redacted`);
    }
  });

  it("names the first broken entry and exits non-zero", async () => {
    const text = await readFile(good, "utf8");
    const bad = join(dir, "bad.jsonl");
    const lines = text.split("\n");
    lines.splice(3, 1); // drop entry seq 2
    await writeFile(bad, lines.join("\n"));
    const t = fakeIo(dir);
    expect(await cli(["verify", bad], t.io)).toBe(1);
    expect(t.err()).toMatch(/^BROKEN at seq 2 \(line 4\): gap:/);
    const j = fakeIo(dir);
    expect(await cli(["verify", bad, "--json"], j.io)).toBe(1);
    expect(JSON.parse(j.out())).toMatchObject({ ok: false, seq: 2, reason: "gap", line: 4 });
  });

  it("checks --head/--size and reports truncation", async () => {
    const t = fakeIo(dir);
    expect(
      await cli(["verify", good, "--head", head.headHash as string, "--size", "6", "--json"], t.io),
    ).toBe(0);
    const u = fakeIo(dir);
    expect(
      await cli(["verify", good, "--head", "ab".repeat(32), "--size", "9", "--json"], u.io),
    ).toBe(1);
    expect(JSON.parse(u.out())).toMatchObject({ ok: false, reason: "truncated", seq: 6 });
  });

  it("rejects bad usage with exit 2 and prints help", async () => {
    const t = fakeIo(dir);
    expect(await cli(["verify", good, "--size", "3"], t.io)).toBe(2);
    expect(await cli(["verify"], t.io)).toBe(2);
    expect(await cli(["verify", good, "--format", "xml"], t.io)).toBe(2);
    const h = fakeIo(dir);
    expect(await cli(["verify", "--help"], h.io)).toBe(0);
    expect(h.out()).toContain("Usage: keywarden audit verify");
  });

  it("names an unreadable file instead of crashing", async () => {
    const t = fakeIo(dir);
    expect(await cli(["verify", join(dir, "missing.jsonl")], t.io)).toBe(1);
    expect(t.err()).toContain("cannot read");
  });

  it("shows progress on stderr only on a TTY", async () => {
    const t = fakeIo(dir, false);
    await cli(["verify", good], t.io);
    expect(t.err()).toBe("");
  });
});

describe("keywarden audit export", () => {
  it("exports a file store chain as CSV or JSONL that verifies", async () => {
    const storePath = join(dir, "store.jsonl");
    const store = await openFileAuditStore(storePath);
    await runAs(hostIdentity("bob"), async () => {
      const log = new AuditLog({ store });
      for (let i = 0; i < 4; i++)
        await log.appendEntry(userChainId("bob"), {
          action: "key.deleted",
          payload: { credentialId: `c${i}` },
        });
    });
    // The exporter opens read-only, so it works while the writer holds its lock.
    for (const format of ["csv", "jsonl"]) {
      const out = join(dir, `bob.${format}`);
      const t = fakeIo(dir);
      expect(
        await cli(
          [
            "export",
            "--store",
            `file:${storePath}`,
            "--chain",
            "user:bob",
            "--format",
            format,
            "--out",
            out,
          ],
          t.io,
        ),
      ).toBe(0);
      const v = fakeIo(dir);
      expect(await cli(["verify", out, "--json"], v.io)).toBe(0);
      expect(JSON.parse(v.out())).toMatchObject({ ok: true, size: 4, chainId: "user:bob" });
    }
    const s = fakeIo(dir);
    expect(
      await cli(
        ["export", "--store", `file:${storePath}`, "--chain", "user:bob", "--format", "jsonl"],
        s.io,
      ),
    ).toBe(0);
    expect(s.out().split("\n")).toHaveLength(6);
    await store.close();
  });

  it("fails on an unsupported store or a missing option", async () => {
    const t = fakeIo(dir);
    expect(
      await cli(["export", "--store", "ftp://x", "--chain", "user:bob", "--format", "csv"], t.io),
    ).toBe(1);
    expect(await cli(["export", "--chain", "user:bob"], t.io)).toBe(2);
  });
});

describe("keywarden audit verify via the real entry point", () => {
  it("runs built-free with tsx in a child process", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      "npx",
      ["tsx", "src/cli/main.ts", "audit", "verify", good, "--json"],
      { cwd: process.cwd() },
    );
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, size: 6 });
    const bad = join(dir, "flip.jsonl");
    await writeFile(bad, (await readFile(good, "utf8")).replace('"seq":3', '"seq":4'));
    const err = await run("npx", ["tsx", "src/cli/main.ts", "audit", "verify", bad], {
      cwd: process.cwd(),
    }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toContain("BROKEN at seq 3");
  }, 60_000);
});
