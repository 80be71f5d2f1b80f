import { defineConfig } from "tsup";

/**
 * One entry per public subpath (see package.json "exports"). ESM only; CommonJS callers load it
 * through Node's require(esm). `splitting` keeps one copy of each shared class across entries, so
 * `KeywardenError` from "keywarden" is the same class as the one thrown by "keywarden/vault".
 */
export const entries = {
  index: "src/index.ts",
  errors: "src/errors.ts",
  secret: "src/secret.ts",
  canonical: "src/canonical.ts",
  guard: "src/guard/index.ts",
  "guard-testing": "src/guard/testing/index.ts",
  audit: "src/audit/index.ts",
  "audit-testing": "src/audit/testing/index.ts",
  "audit-verify": "src/audit/transparency/verify.ts",
  "audit-sqlite": "src/audit/storage/sqlite/store.ts",
  "audit-postgres": "src/audit/storage/postgres/store.ts",
  "audit-dynamodb": "src/audit/storage/dynamodb/store.ts",
  "audit-tiles-s3": "src/audit/transparency/tiles/s3.ts",
  "audit-sequencer": "src/audit/sequencer/postgres.ts",
  "audit-sequencer-sqlite": "src/audit/sequencer/sqlite.ts",
  "audit-sequencer-dynamodb": "src/audit/sequencer/dynamodb.ts",
  vault: "src/vault/index.ts",
  "vault-aws-kms": "src/vault/kms/aws.ts",
  "vault-sqlite": "src/vault/stores/sqlite.ts",
  "vault-postgres": "src/vault/stores/postgres/store.ts",
  "vault-testing": "src/vault/testing/index.ts",
  permissions: "src/permissions/index.ts",
  "permissions-ccxt": "src/permissions/ccxt.ts",
  "permissions-testing": "src/permissions/testing/index.ts",
  trading: "src/trading/index.ts",
  "trading-remote": "src/trading/remote/index.ts",
  signer: "src/signer/index.ts",
  embedded: "src/embedded/index.ts",
  observability: "src/observability/index.ts",
  cli: "src/cli/main.ts",
} as const;

export default defineConfig({
  entry: entries,
  format: ["esm"],
  dts: { entry: Object.fromEntries(Object.entries(entries).filter(([k]) => k !== "cli")) },
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
  splitting: true,
  treeshake: true,
  outDir: "dist",
});
