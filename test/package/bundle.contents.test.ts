import { resolve } from "node:path";
import { type BuildOptions, build } from "esbuild";
import { describe, expect, it } from "vitest";
import { entries } from "../../tsup.config.js";

/**
 * Bundles each light subpath from the built dist/ as a consumer's bundler would, and inspects which
 * packages got in: importing the audit log or the guard must never pull in ccxt, the AWS SDK, pg or
 * better-sqlite3 (nor any other module's heavy dependency).
 */
const root = resolve(__dirname, "../..");
const HEAVY =
  /node_modules\/(ccxt|@aws-sdk|@smithy|@aws-crypto|pg|pg-[a-z]+|better-sqlite3|playwright-core)\//;

/** How a consumer's bundler would bundle an entry for Node, with the input graph recorded. */
const AS_A_CONSUMER = {
  bundle: true,
  write: false,
  metafile: true,
  platform: "node",
  format: "esm",
  logLevel: "silent",
} as const satisfies BuildOptions;

async function packagesIn(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [resolve(root, "dist", entry)],
    ...AS_A_CONSUMER,
  });
  return Object.keys(result.metafile.inputs);
}

/** Optional peers, imported only where the module first needs them. */
const PEER = /^(ccxt|@aws-sdk\/[^/]+|pg|better-sqlite3|fastify|playwright-core)(\/|$)/;

/** The peers each entry must load lazily (the walk below must see them as dynamic imports). */
const LAZY_PEERS: Partial<Record<keyof typeof entries, string[]>> = {
  "audit-sqlite": ["better-sqlite3"],
  "audit-dynamodb": ["@aws-sdk/client-dynamodb"],
  "audit-tiles-s3": ["@aws-sdk/client-s3"],
  "audit-sequencer-sqlite": ["better-sqlite3"],
  "audit-sequencer-dynamodb": ["@aws-sdk/client-dynamodb"],
  "vault-aws-kms": ["@aws-sdk/client-kms"],
  signer: ["fastify"],
};

/**
 * Follows an entry's static imports through dist/ (packages left external) and lists the optional
 * peers it imports at load time, and, separately, the peers any reachable file imports lazily.
 */
async function peerImports(
  options: Pick<BuildOptions, "entryPoints" | "stdin">,
): Promise<{ statically: string[]; dynamically: string[] }> {
  const result = await build({
    ...options,
    ...AS_A_CONSUMER,
    packages: "external",
  });
  const inputs = result.metafile.inputs;
  const imported = new Set(Object.values(inputs).flatMap((i) => i.imports.map((x) => x.path)));
  const starts = Object.keys(inputs).filter((file) => !imported.has(file));
  const statically = new Set<string>();
  const dynamically = new Set<string>();
  const seen = new Set(starts);
  const pending = [...starts];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const i of inputs[file]?.imports ?? []) {
      if (i.external) {
        if (!PEER.test(i.path)) continue;
        (i.kind === "dynamic-import" ? dynamically : statically).add(i.path);
      } else if (i.kind === "import-statement" && !seen.has(i.path)) {
        seen.add(i.path);
        pending.push(i.path);
      }
    }
  }
  return { statically: [...statically].sort(), dynamically: [...dynamically].sort() };
}

describe("subpath bundles stay light", () => {
  it.each([
    "index.js",
    "errors.js",
    "secret.js",
    "canonical.js",
    "guard.js",
    "audit.js",
    "vault.js",
    "permissions.js",
    "observability.js",
    "audit-sequencer.js",
  ])("%s pulls in none of ccxt, @aws-sdk/*, pg, better-sqlite3", async (entry) => {
    const inputs = await packagesIn(entry);
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.filter((p) => HEAVY.test(p))).toEqual([]);
  });

  it("trading-remote.js (the bot's client) loads neither the vault, the audit log, ccxt nor the server framework", async () => {
    const result = await build({
      entryPoints: [resolve(root, "dist", "trading-remote.js")],
      ...AS_A_CONSUMER,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((p) => HEAVY.test(p) || /node_modules\/(fastify|pino)/.test(p))).toEqual(
      [],
    );
    const text = result.outputFiles.map((f) => f.text).join("\n");
    // Markers of the vault, the audit log and the trading client's order path.
    for (const marker of [
      "keywarden-vault:grant-expiry",
      "order.intent",
      "withCredentials",
      "fastify",
    ])
      expect(text.includes(marker)).toBe(false);
  });

  it("signer.js imports fastify only lazily, inside createSignerServer", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(resolve(root, "dist", "signer.js"), "utf8");
    expect(text).not.toMatch(/^import[^;]*["']fastify["']/m);
    expect(text).toMatch(/import\(["']fastify["']\)/);
  });

  it("audit-tiles-s3.js imports @aws-sdk/client-s3 only lazily, inside s3TileStorage", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(resolve(root, "dist", "audit-tiles-s3.js"), "utf8");
    expect(text).not.toMatch(/^import[^;]*["']@aws-sdk\/client-s3["']/m);
    expect(text).toMatch(/import\(["']@aws-sdk\/client-s3["']\)/);
  });

  it.each(Object.keys(entries) as (keyof typeof entries)[])(
    "%s.js loads no optional peer (ccxt, @aws-sdk/*, pg, better-sqlite3, fastify) at import time",
    async (entry) => {
      const { statically, dynamically } = await peerImports({
        entryPoints: [resolve(root, "dist", `${entry}.js`)],
      });
      expect(statically).toEqual([]);
      for (const peer of LAZY_PEERS[entry] ?? []) expect(dynamically).toContain(peer);
    },
  );

  it("the peer-import walk would catch a static import and tell it from a lazy one", async () => {
    const found = await peerImports({
      stdin: {
        contents: 'import "pg"; export const f = () => import("@aws-sdk/client-dynamodb");',
        resolveDir: root,
      },
    });
    expect(found.statically).toEqual(["pg"]);
    expect(found.dynamically).toEqual(["@aws-sdk/client-dynamodb"]);
  });

  it("the bundle check would catch a heavy import (it sees pg when it is really imported)", async () => {
    const result = await build({
      stdin: { contents: 'import "pg";', resolveDir: root },
      ...AS_A_CONSUMER,
    });
    expect(Object.keys(result.metafile.inputs).some((p) => HEAVY.test(p))).toBe(true);
  });
});

describe("the build bundles no third-party code", () => {
  it("every dist file imports its dependencies instead of inlining them", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const dist = resolve(root, "dist");
    const files = readdirSync(dist).filter((f) => f.endsWith(".js"));
    expect(files.length).toBeGreaterThan(10);
    const inlined = files.filter((f) =>
      readFileSync(resolve(dist, f), "utf8").includes("// node_modules/"),
    );
    expect(inlined).toEqual([]);
  });
});
