import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/** Which packages end up in a bundle of `entry` (everything resolved, nothing external but node:). */
async function packagesIn(entry: string): Promise<string[]> {
  const r = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    logLevel: "silent",
    external: ["node:*"],
  });
  const pkgs = new Set<string>();
  for (const input of Object.keys(r.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m?.[1]) pkgs.add(m[1]);
  }
  return [...pkgs].sort();
}

describe("vault subpaths load only what they need", () => {
  it("keywarden/vault never loads the AWS SDK, pg or better-sqlite3", async () => {
    const pkgs = await packagesIn("src/vault/index.ts");
    expect(pkgs.filter((p) => /^@aws-sdk\/|^@smithy\/|^pg$|^better-sqlite3$/.test(p))).toEqual([]);
  });

  it("the SQLite and PostgreSQL bindings do not load the AWS SDK", async () => {
    for (const entry of ["src/vault/stores/sqlite.ts", "src/vault/stores/postgres/store.ts"]) {
      const pkgs = await packagesIn(entry);
      expect(pkgs.filter((p) => /^@aws-sdk\/|^@smithy\//.test(p))).toEqual([]);
    }
  });

  it("only the aws-kms binding loads @aws-sdk/client-kms", async () => {
    expect(await packagesIn("src/vault/kms/aws.ts")).toContain("@aws-sdk/client-kms");
  });
});
