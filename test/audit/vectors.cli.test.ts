/**
 * The audit-format conformance vectors (test/vectors/audit/) run through the CLI: every export
 * vector through `keywarden audit verify FILE --json` (the exit code, and the reason, `seq` and
 * line of the JSON result) when the command line can express its trusted inputs; every
 * transparency vector through `audit check-checkpoint`, `audit verify-receipt` and
 * `audit verify-consistency` with `--json` (exit code and reason).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "../../src/cli/audit.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import {
  type AuditVector,
  inputBytes,
  loadAuditVectors,
  loadTransparencyVectors,
  type TransparencyVector,
} from "./vectors.js";

// `allowUnsignedManifest` has no flag of its own (the CLI sets it with --checkpoint).
const vectors = loadAuditVectors().filter((v) => v.trusted.allowUnsignedManifest !== true);
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-vectors-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(v: AuditVector): Promise<{ code: number; out: string }> {
  // The file name carries the format, as a user's would (the CLI's default reading).
  const file = join(dir, `${v.id}.${v.format}`);
  await writeFile(file, inputBytes(v));
  const argv = ["audit", "verify", file, "--json"];
  const e = v.trusted.expected;
  if (e) argv.push("--head", e.headHash ?? "null", "--size", String(e.size));
  for (const k of v.trusted.manifestKeys ?? []) argv.push("--vkey", k);
  return cli(argv);
}

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.resume();
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: dir };
  const code = await runCli(argv, io, { audit: async () => audit });
  return { code, out };
}

describe("audit conformance vectors: CLI", () => {
  it("runs at least 300 vectors", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(300);
  });

  it.each(vectors.map((v) => [v.id, v] as const))("%s", async (_id, v) => {
    const { code, out } = await run(v);
    const r = JSON.parse(out) as Record<string, unknown>;
    if (v.result.valid) {
      expect(code).toBe(0);
      expect({ ok: r.ok, size: r.size, headHash: r.headHash, redacted: r.redacted }).toEqual({
        ok: true,
        size: v.result.size,
        headHash: v.result.headHash,
        redacted: v.result.redacted,
      });
    } else {
      expect(code).toBe(1);
      expect({ ok: r.ok, reason: r.reason, seq: r.seq, line: r.line ?? null }).toEqual({
        ok: false,
        reason: v.result.reason,
        seq: v.result.seq,
        line: v.result.line,
      });
    }
  });
});

/** The CLI's answer for a transparency vector: exit code and the `--json` result. */
async function runTransparency(
  v: TransparencyVector,
): Promise<{ code: number; r: Record<string, unknown> }> {
  let argv: string[];
  if (v.kind === "consistency") {
    const proof = join(dir, `${v.id}.proof`);
    await writeFile(proof, v.input.proof.map((h) => `${h}\n`).join(""));
    argv = [
      "audit",
      "verify-consistency",
      "--from",
      String(v.input.size1),
      "--to",
      String(v.input.size2),
      "--old-root",
      v.input.root1,
      "--new-root",
      v.input.root2,
      "--proof",
      proof,
      "--json",
    ];
  } else {
    const file = join(dir, `${v.id}.txt`);
    await writeFile(file, v.input.text);
    const keys = v.trusted.logKeys.flatMap((k) => ["--vkey", k]);
    argv =
      v.kind === "checkpoint"
        ? [
            "audit",
            "check-checkpoint",
            "--checkpoint",
            file,
            ...keys,
            "--state",
            join(dir, `${v.id}.state`),
            ...(v.trusted.origin === undefined ? [] : ["--origin", v.trusted.origin]),
            "--json",
          ]
        : [
            "audit",
            "verify-receipt",
            file,
            ...keys,
            ...(v.trusted.leafHash === undefined ? [] : ["--leaf-hash", v.trusted.leafHash]),
            "--json",
          ];
  }
  const { code, out } = await cli(argv);
  return { code, r: JSON.parse(out) as Record<string, unknown> };
}

describe("audit conformance vectors: transparency (CLI)", () => {
  const tv = loadTransparencyVectors();
  it("runs every consistency, checkpoint and receipt vector", () => {
    for (const kind of ["consistency", "checkpoint", "receipt"])
      expect(tv.filter((v) => v.kind === kind).length, kind).toBeGreaterThanOrEqual(20);
  });

  it.each(tv.map((v) => [v.id, v] as const))("%s", async (_id, v) => {
    const { code, r } = await runTransparency(v);
    expect(code).toBe(v.result.valid ? 0 : 1);
    expect(r.ok).toBe(v.result.valid);
    if (v.kind === "consistency") {
      // A proof or root that is not base64 of 32 bytes is named apart from a wrong proof.
      const malformed = [v.input.root1, v.input.root2, ...v.input.proof].some(
        (h) => Buffer.from(h, "base64").length !== 32,
      );
      if (!v.result.valid) expect(r.reason).toBe(malformed ? "malformed" : "inconsistent");
    } else if (v.result.valid) {
      expect({ origin: r.origin, size: r.size }).toEqual({
        origin: v.result.origin,
        size: v.result.size,
      });
      if (v.kind === "receipt") expect(r.index).toBe(v.result.index);
      else expect(r.status).toBe("first-run");
    } else if (v.kind === "receipt") {
      expect(r.code).toBe(v.result.error);
    } else {
      // check-checkpoint names the monitor's reason: another origin than the one given, or a
      // checkpoint that does not verify (the library's ERR_AUDIT_CHECKPOINT_INVALID).
      expect(v.result.error).toBe("ERR_AUDIT_CHECKPOINT_INVALID");
      expect(r.reason).toBe(v.trusted.origin === undefined ? "bad-checkpoint" : "origin-mismatch");
    }
  });
});
