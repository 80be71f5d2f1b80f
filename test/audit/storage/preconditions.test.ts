/**
 * One test per `Precondition:` comment of the storage adapters, titled with the same sentence.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDynamoDbAuditTable,
  type DynamoDbClientLike,
  openDynamoDbAuditStore,
} from "../../../src/audit/storage/dynamodb/store.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import type { AuditStore } from "../../../src/audit/storage/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { collect, fakeEntries, freshChain } from "./support/battery.js";
import { startDynalite } from "./support/dynalite.js";

const dir = mkdtempSync(join(tmpdir(), "kw-pre-"));
let server: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  server = await startDynalite();
  await createDynamoDbAuditTable(server.client, "pre");
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));

async function staleSizeConflicts(store: AuditStore) {
  const c = freshChain();
  await store.append({ chainId: c, expectedSize: 0, entries: fakeEntries(c, 0, 3) });
  for (const size of [0, 2, 4])
    expect(
      code(
        await store
          .append({
            chainId: c,
            expectedSize: size,
            entries: fakeEntries(c, size, 1, { tag: "late" }),
          })
          .catch((e) => e),
      ),
    ).toBe("ERR_AUDIT_APPEND_CONFLICT");
  expect((await collect(store.read(c, 0))).map((e) => JSON.parse(e.body).tag)).toEqual([
    "t",
    "t",
    "t",
  ]);
}
async function keyOncePerChain(store: AuditStore) {
  const c = freshChain();
  await store.append({
    chainId: c,
    expectedSize: 0,
    entries: fakeEntries(c, 0, 1, { keys: ["once"] }),
  });
  const again = await Promise.allSettled(
    [1, 1, 1].map((s) =>
      store.append({
        chainId: c,
        expectedSize: s,
        entries: fakeEntries(c, s, 1, { keys: ["once"] }),
      }),
    ),
  );
  expect(
    again.every((r) => r.status === "rejected" && code(r.reason) === "ERR_AUDIT_APPEND_CONFLICT"),
  ).toBe(true);
  expect(
    code(
      await store
        .append({
          chainId: c,
          expectedSize: 1,
          entries: fakeEntries(c, 1, 2, { keys: ["twice", "twice"] }),
        })
        .catch((e) => e),
    ),
  ).toBe("ERR_AUDIT_APPEND_CONFLICT");
  expect((await store.head(c)).size).toBe(1);
}
async function pruneChecks(
  store: AuditStore & { pruneArchived(c: string, b: number, h: string): Promise<unknown> },
  what: "newest" | "hash",
) {
  const c = freshChain();
  const es = fakeEntries(c, 0, 5);
  await store.append({ chainId: c, expectedSize: 0, entries: es });
  if (what === "newest") {
    expect(code(await store.pruneArchived(c, 5, es[4]?.hash as string).catch((e) => e))).toBe(
      "ERR_INVALID_ARGUMENT",
    );
    expect(await store.head(c)).toEqual({ size: 5, headHash: es[4]?.hash });
  } else {
    expect(code(await store.pruneArchived(c, 3, es[3]?.hash as string).catch((e) => e))).toBe(
      "ERR_INVALID_ARGUMENT",
    );
    expect(await collect(store.read(c, 0))).toHaveLength(5);
  }
}

describe("sqlite", () => {
  const open = () => openSqliteAuditStore({ database: join(dir, "pre.db") });
  it("an append commits only when the chain's size, read under the write lock, is still expectedSize.", async () =>
    staleSizeConflicts(await open()));
  it("an idempotency key is used at most once per chain.", async () =>
    keyOncePerChain(await open()));
  it("pruning keeps the newest entry, so the chain's head is never lost.", async () =>
    pruneChecks(await open(), "newest"));
  it("only a range whose archived head hash matches the stored one is pruned.", async () =>
    pruneChecks(await open(), "hash"));
});

describe("dynamodb", () => {
  const open = () => openDynamoDbAuditStore({ client: server.client, tableName: "pre" });
  it("a block is written only at the chain's current size, read strongly consistently.", async () =>
    staleSizeConflicts(await open()));
  it("an idempotency key is used at most once per chain.", async () =>
    keyOncePerChain(await open()));
  const replicated = (region: string): DynamoDbClientLike => ({
    config: { region: async () => region },
    async send(cmd: unknown) {
      const out = await server.client.send(cmd as never);
      return cmd instanceof DescribeTableCommand
        ? {
            ...out,
            Table: {
              ...(out as { Table: object }).Table,
              Replicas: [{ RegionName: "eu-west-1" }, { RegionName: "ap-south-1" }],
            },
          }
        : out;
    },
  });
  it("a replicated (multi-writer) table is used only from an asserted single home region.", async () => {
    expect(
      code(
        await openDynamoDbAuditStore({ client: replicated("eu-west-1"), tableName: "pre" }).catch(
          (e) => e,
        ),
      ),
    ).toBe("ERR_NOT_SUPPORTED");
    await expect(
      openDynamoDbAuditStore({
        client: replicated("eu-west-1"),
        tableName: "pre",
        homeRegion: "eu-west-1",
      }),
    ).resolves.toBeDefined();
  });
  it("the client writes from the home region, when one is asserted.", async () => {
    expect(
      code(
        await openDynamoDbAuditStore({
          client: server.client,
          tableName: "pre",
          homeRegion: "ap-south-1",
        }).catch((e) => e),
      ),
    ).toBe("ERR_NOT_SUPPORTED");
    await expect(
      openDynamoDbAuditStore({ client: server.client, tableName: "pre", homeRegion: "eu-west-1" }),
    ).resolves.toBeDefined();
  });
});

describeWithPostgres("postgres", () => {
  let pool: pg.Pool;
  let appPool: pg.Pool;
  beforeAll(async () => {
    const url = await createDatabase(pgUrl as string);
    pool = new pg.Pool({ connectionString: url, max: 4 });
    const suffix = randomBytes(4).toString("hex");
    const password = randomBytes(12).toString("hex");
    await migratePostgresAuditStore(pool, {
      rls: { appRole: `kw_pre_app_${suffix}`, ownerRole: `kw_pre_owner_${suffix}` },
    });
    await pool.query(`alter role kw_pre_app_${suffix} login password '${password}'`);
    const u = new URL(url);
    u.username = `kw_pre_app_${suffix}`;
    u.password = password;
    appPool = new pg.Pool({ connectionString: u.toString(), max: 1 });
  });
  afterAll(async () => {
    await appPool?.end();
    await pool?.end();
  });
  it("an append commits only when the chain's size, read under the chain lock, is still expectedSize.", async () =>
    staleSizeConflicts(createPostgresAuditStore({ pool })));
  it("an idempotency key is used at most once per chain.", async () =>
    keyOncePerChain(createPostgresAuditStore({ pool })));
  it("pruning keeps the newest entry, so the chain's head is never lost.", async () =>
    pruneChecks(createPostgresAuditStore({ pool }), "newest"));
  it("only a range whose archived head hash matches the stored one is pruned.", async () =>
    pruneChecks(createPostgresAuditStore({ pool }), "hash"));
  it("with RLS on, every audit transaction runs as the chain's owner, set transaction-locally.", async () => {
    // The app role sees and writes rows only under the owner's app.user_id: without it, nothing works.
    const withRls = createPostgresAuditStore({ pool: appPool, rls: true });
    const withoutRls = createPostgresAuditStore({ pool: appPool });
    const c = "user:pre-owner";
    await withRls.append({ chainId: c, expectedSize: 0, entries: fakeEntries(c, 0, 2) });
    expect((await withRls.head(c)).size).toBe(2);
    expect((await withoutRls.head(c)).size).toBe(0);
    expect(
      code(
        await withoutRls
          .append({
            chainId: "user:other",
            expectedSize: 0,
            entries: fakeEntries("user:other", 0, 1),
          })
          .catch((e) => e),
      ),
    ).toBe("ERR_AUDIT_STORE_UNAVAILABLE");
    // Transaction-local: the one pooled connection carries no user id after the store used it.
    const after = await appPool.query(
      "select coalesce(current_setting('app.user_id', true), '') as v",
    );
    expect(after.rows[0].v).toBe("");
  });
});
