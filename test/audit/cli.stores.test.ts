/**
 * Acceptance for issue 23: from the CLI, against every kind of store a `--store` URL names
 * (file, SQLite, the throwaway PostgreSQL server, dynalite), export → verify → checkpoint →
 * prove → verify-receipt, with byte-identical exports of the same chain from every store.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditStore, StoredEntry } from "../../src/audit/index.js";
import { openFileAuditStore } from "../../src/audit/index.js";
import { openDynamoDbAuditStore } from "../../src/audit/storage/dynamodb/store.js";
import { openSqliteAuditStore } from "../../src/audit/storage/sqlite/index.js";
import { audit } from "../../src/cli/audit.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import { createDatabase } from "../support/postgres.js";
import { pgUrl } from "../support/services.js";
import { exportText, sampleLog } from "./helpers.js";
import { startDynalite } from "./storage/support/dynalite.js";

function fakeIo(cwd: string, env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIo = { stdout, stderr, stdin: new PassThrough(), env: { ...env }, cwd };
  return { io, out: () => out, err: () => err };
}

async function cli(argv: string[], cwd: string, env: Record<string, string> = {}) {
  const t = fakeIo(cwd, env);
  const code = await runCli(["audit", ...argv], t.io, { audit: async () => audit });
  return { code, out: t.out(), err: t.err() };
}

async function copyChain(entries: StoredEntry[], chainId: string, store: AuditStore) {
  await store.append({ chainId, expectedSize: 0, entries });
  await store.close?.();
}

let dir = "";
let chainId = "";
const entries: StoredEntry[] = [];
let reference = { jsonl: "", csv: "" };
let vkey = "";
let dynalite: Awaited<ReturnType<typeof startDynalite>> | undefined;

/** Each store: its URL, the environment the CLI gets, and how the test fills it. */
interface Target {
  readonly name: string;
  url: string;
  env: Record<string, string>;
}
const targets: Target[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-cli-stores-"));
  const sample = await sampleLog(9, "carol", [2, 5]);
  chainId = sample.chainId;
  for await (const e of sample.log.readEntries(chainId)) entries.push(e);
  reference = {
    jsonl: await exportText(sample.log, chainId, "jsonl"),
    csv: await exportText(sample.log, chainId, "csv"),
  };
  const keygen = await cli(["keygen", "--name", "audit.test", "--out", "log.key"], dir);
  expect(keygen.code).toBe(0);
  vkey = keygen.out.trim();

  await copyChain(entries, chainId, await openFileAuditStore(join(dir, "audit.jsonl")));
  targets.push({ name: "file", url: "file:audit.jsonl", env: {} });

  // SQLite: the schema comes from the CLI's migrate, the entries from the test.
  expect((await cli(["migrate", "--store", "sqlite:audit.db"], dir)).code).toBe(0);
  await copyChain(
    entries,
    chainId,
    await openSqliteAuditStore({ database: join(dir, "audit.db") }),
  );
  targets.push({ name: "sqlite", url: "sqlite:audit.db", env: {} });

  if (pgUrl) {
    const db = await createDatabase(pgUrl);
    // The URL with its password only through --store-env; afterwards the bare URL + PGPASSWORD.
    expect((await cli(["migrate", "--store-env", "KW_DB"], dir, { KW_DB: db })).code).toBe(0);
    const pg = await import("pg");
    const { createPostgresAuditStore } = await import("../../src/audit/storage/postgres/index.js");
    const pool = new pg.default.Pool({ connectionString: db, max: 2 });
    await copyChain(entries, chainId, createPostgresAuditStore({ pool }));
    await pool.end();
    const bare = new URL(db);
    const password = decodeURIComponent(bare.password);
    bare.password = "";
    targets.push({ name: "postgres", url: bare.toString(), env: { PGPASSWORD: password } });
  }

  dynalite = await startDynalite();
  const env = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
  const url = `dynamodb://audit-cli?region=eu-west-1&endpoint=${dynalite.endpoint}`;
  const created = await cli(["migrate", "--store", url, "--create-table", "--json"], dir, env);
  expect(created.code).toBe(0);
  expect(JSON.parse(created.out)).toMatchObject({ ok: true, applied: ["dynamodb-table"] });
  await copyChain(
    entries,
    chainId,
    await openDynamoDbAuditStore({ client: dynalite.client, tableName: "audit-cli" }),
  );
  targets.push({ name: "dynamodb", url, env });
});

afterAll(async () => {
  await dynalite?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("audit commands on every store URL", () => {
  it("covers SQLite, PostgreSQL and DynamoDB (PostgreSQL only when the server runs)", () => {
    const names = targets.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["file", "sqlite", "dynamodb", ...(pgUrl ? ["postgres"] : [])]),
    );
  });

  it("exports the same chain to the same bytes from every store, and the export verifies", async () => {
    for (const t of targets) {
      for (const format of ["jsonl", "csv"] as const) {
        const out = `${t.name}.${format}`;
        const r = await cli(
          [
            "export",
            "--store",
            t.url,
            "--chain",
            chainId,
            "--format",
            format,
            "--out",
            out,
            "--json",
          ],
          dir,
          t.env,
        );
        expect(r.err, t.name).toBe("");
        expect(r.code, t.name).toBe(0);
        expect(JSON.parse(r.out)).toMatchObject({ ok: true, chainId, size: 9, format });
        expect(await readFile(join(dir, out), "utf8"), `${t.name} ${format}`).toBe(
          reference[format],
        );
        const v = await cli(["verify", out, "--json"], dir);
        expect(v.code, t.name).toBe(0);
        expect(JSON.parse(v.out)).toMatchObject({ ok: true, size: 9, redacted: 2 });
      }
    }
  });

  it("verifies the stored chain in place, and reports a wrong expected head", async () => {
    const last = entries[entries.length - 1] as StoredEntry;
    for (const t of targets) {
      const ok = await cli(["verify", "--store", t.url, "--chain", chainId, "--json"], dir, t.env);
      expect(ok.code, t.name).toBe(0);
      expect(JSON.parse(ok.out)).toEqual({
        ok: true,
        chainId,
        size: 9,
        headHash: last.hash,
        redacted: 2,
      });
      const wrong = await cli(
        ["verify", "--store", t.url, "--chain", chainId, "--size", "10", "--head", last.hash],
        dir,
        t.env,
      );
      expect(wrong.code, t.name).toBe(1);
      expect(wrong.err).toContain("BROKEN");
    }
  });

  it("signs a checkpoint into each store, proves an entry, and the receipt verifies offline", async () => {
    for (const t of targets) {
      const cp = await cli(
        [
          "checkpoint",
          "--store",
          t.url,
          "--chain",
          chainId,
          "--log-name",
          "audit.test",
          "--key",
          "log.key",
          "--json",
        ],
        dir,
        t.env,
      );
      expect(cp.err, t.name).toBe("");
      expect(cp.code, t.name).toBe(0);
      expect(JSON.parse(cp.out)).toMatchObject({ ok: true, chainId, size: 9 });
      const receipt = `${t.name}.receipt`;
      const prove = await cli(
        ["prove", "--store", t.url, "--chain", chainId, "--seq", "4", "--out", receipt],
        dir,
        t.env,
      );
      expect(prove.code, t.name).toBe(0);
      const v = await cli(["verify-receipt", receipt, "--vkey", vkey, "--json"], dir);
      expect(v.code, t.name).toBe(0);
      expect(JSON.parse(v.out)).toMatchObject({ ok: true, index: 4, size: 9 });
      expect(JSON.parse(v.out).entry).toBe((entries[4] as StoredEntry).body);
      const consistency = await cli(
        ["prove", "--store", t.url, "--chain", chainId, "--from", "3", "--json"],
        dir,
        t.env,
      );
      expect(JSON.parse(consistency.out)).toMatchObject({ kind: "consistency", from: 3, to: 9 });
    }
  });

  it("verifies the stored chain against the checkpoint signed into it", async () => {
    for (const t of targets) {
      const cpFile = `${t.name}.cp`;
      await cli(
        [
          "checkpoint",
          "--store",
          t.url,
          "--chain",
          chainId,
          "--log-name",
          "audit.test",
          "--key",
          "log.key",
          "--out",
          cpFile,
        ],
        dir,
        t.env,
      );
      const r = await cli(
        [
          "verify",
          "--store",
          t.url,
          "--chain",
          chainId,
          "--checkpoint",
          cpFile,
          "--vkey",
          vkey,
          "--json",
        ],
        dir,
        t.env,
      );
      expect(r.code, t.name).toBe(0);
      expect(JSON.parse(r.out).checkpoint).toMatchObject({ ok: true, size: 9 });
    }
  });

  it("never writes through a store opened for a reading command", async () => {
    const { openStoreFromUrl } = await import("../../src/cli/store-open.js");
    for (const t of targets) {
      const { io } = fakeIo(dir, t.env);
      const opened = await openStoreFromUrl(t.url, io, { readOnly: true });
      try {
        const err = await opened.store
          .append({ chainId, expectedSize: 9, entries: [] })
          .catch((e: unknown) => e);
        expect((err as { code?: string }).code, t.name).toBe("ERR_NOT_SUPPORTED");
        expect(await opened.store.head(chainId)).toMatchObject({ size: 9 });
      } finally {
        await opened.close();
      }
    }
  });
});
