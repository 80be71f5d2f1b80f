/**
 * The audit-format conformance vectors (test/vectors/audit/) run through `keywarden audit verify
 * FILE --json`: the exit code, and the reason, `seq` and line of the JSON result, for every vector
 * whose trusted inputs the command line can express.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "../../src/cli/audit.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import { type AuditVector, inputBytes, loadAuditVectors } from "./vectors.js";

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
