import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { audit } from "../../src/cli/audit.js";
import { emergency } from "../../src/cli/emergency.js";
import type { CliIo } from "../../src/cli/io.js";
import { key } from "../../src/cli/key.js";
import { kms } from "../../src/cli/kms.js";
import { runCli } from "../../src/cli/run.js";

const groups = { audit, kms, key, emergency };

function io(cwd: string) {
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const value: CliIo = {
    stdout,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    env: {},
    cwd,
  };
  return { io: value, out: () => out };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("--json on every command", () => {
  it("every command documents --json and its output in its help", () => {
    for (const [name, group] of Object.entries(groups))
      for (const [cmd, c] of Object.entries(group.commands)) {
        expect(c.usage, `${name} ${cmd}`).toMatch(/--json\s+\S/);
      }
  });

  it("keygen and kms init print one JSON object with the documented fields", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kw-json-"));
    dirs.push(dir);
    const loaders = Object.fromEntries(Object.entries(groups).map(([n, g]) => [n, async () => g]));
    const a = io(dir);
    expect(
      await runCli(
        ["audit", "keygen", "--name", "log.test", "--out", "k", "--json"],
        a.io,
        loaders,
      ),
    ).toBe(0);
    const k = JSON.parse(a.out());
    expect(Object.keys(k).sort()).toEqual(["cosigner", "name", "ok", "verifierKey"]);
    expect(k.verifierKey).toMatch(/^log\.test\+[0-9a-f]{8}\+/);
    const b = io(dir);
    expect(await runCli(["kms", "init", "--out", "master.key", "--json"], b.io, loaders)).toBe(0);
    expect(JSON.parse(b.out())).toEqual({ ok: true, path: join(dir, "master.key") });
  });
});
