import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Packs keywarden as npm would publish it, installs the tarball into an empty project WITHOUT any
 * optional peer (no ccxt, AWS SDK, pg, better-sqlite3), and loads every public subpath there, both
 * with `import` and with `require()` (Node's require(esm)).
 */
const root = resolve(__dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
};
const subpaths = Object.keys(pkg.exports)
  .filter((k) => k !== "./package.json")
  .map((k) => (k === "." ? "keywarden" : `keywarden/${k.slice(2)}`));

let project = "";

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "keywarden-pack-"));
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", project], {
    cwd: root,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .pop() as string;
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "commonjs" }),
  );
  execFileSync(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--ignore-scripts",
      join(project, packed),
    ],
    {
      cwd: project,
      stdio: "ignore",
    },
  );
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the published tarball", () => {
  it("installs none of the optional peers", () => {
    for (const peer of Object.keys(pkg.peerDependencies)) {
      expect(() =>
        execFileSync(process.execPath, ["-e", `require.resolve(${JSON.stringify(peer)})`], {
          cwd: project,
          stdio: "ignore",
        }),
      ).toThrow();
    }
  });

  it.each(subpaths)("import('%s') works without optional peers", (spec) => {
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(spec)}); process.stdout.write(String(Object.keys(m).length));`,
      ],
      { cwd: project, encoding: "utf8" },
    );
    expect(Number(out)).toBeGreaterThan(0);
  });

  it.each(subpaths)("require('%s') works without optional peers", (spec) => {
    const out = execFileSync(
      process.execPath,
      [
        "-e",
        `const m = require(${JSON.stringify(spec)}); process.stdout.write(String(Object.keys(m).length));`,
      ],
      { cwd: project, encoding: "utf8" },
    );
    expect(Number(out)).toBeGreaterThan(0);
  });

  it.each([
    [
      "keywarden/audit/dynamodb",
      'm.openDynamoDbAuditStore({ client: { send: async () => ({}) }, tableName: "t" })',
    ],
    ["keywarden/audit/sqlite", 'm.openSqliteAuditStore({ database: "audit.db" })'],
    [
      "keywarden/audit/tiles-s3",
      'm.s3TileStorage({ client: { send: async () => ({}) }, bucket: "b" })',
    ],
    ["keywarden/signer", "m.createSignerServer({ listen: { socketPath: 's.sock' } })"],
  ])(
    "using %s without its optional peer fails with ERR_NOT_SUPPORTED, naming the peer",
    (spec, call) => {
      const out = execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(spec)}); try { await ${call}; process.stdout.write("no error"); } catch (e) { process.stdout.write(e.code + " " + e.message); }`,
        ],
        { cwd: project, encoding: "utf8" },
      );
      expect(out).toMatch(
        /^ERR_NOT_SUPPORTED .*(@aws-sdk\/client-dynamodb|@aws-sdk\/client-s3|better-sqlite3|fastify)/,
      );
    },
  );

  it("errors from any subpath are the root's KeywardenError class", () => {
    const out = execFileSync(
      process.execPath,
      [
        "-e",
        `const a = require("keywarden"); const b = require("keywarden/errors"); process.stdout.write(String(a.KeywardenError === b.KeywardenError));`,
      ],
      { cwd: project, encoding: "utf8" },
    );
    expect(out).toBe("true");
  });

  it("ships the keywarden command", () => {
    const out = execFileSync(join(project, "node_modules", ".bin", "keywarden"), ["--help"], {
      encoding: "utf8",
    });
    expect(out).toContain("Usage: keywarden");
  });
});
