import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDynamoDbAuditTable,
  type DynamoDbClientLike,
  openDynamoDbAuditStore,
} from "../../../src/audit/storage/dynamodb/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { collect, fakeEntries, freshChain, storeBattery } from "./support/battery.js";
import { appendN, logFor, verifyStored } from "./support/chain.js";
import { startDynalite } from "./support/dynalite.js";

let server: Awaited<ReturnType<typeof startDynalite>>;
let client: DynamoDBClient;
const tables = new Set<string>();
async function table(name: string): Promise<string> {
  const t = `audit-${name}`;
  if (!tables.has(t)) {
    await createDynamoDbAuditTable(client, t);
    tables.add(t);
  }
  return t;
}
beforeAll(async () => {
  server = await startDynalite();
  client = server.client;
});
afterAll(async () => {
  await server?.stop();
});

storeBattery(
  "dynamodb (dynalite)",
  () => ({
    open: async (name) => openDynamoDbAuditStore({ client, tableName: await table(name) }),
  }),
  { queuesInOrder: false },
);

const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));

describe("dynamodb audit store", () => {
  it("runs a real chain through the core: concurrent appends, verify, idempotent retry", async () => {
    const store = await openDynamoDbAuditStore({ client, tableName: await table("core") });
    const { log } = logFor(store);
    await appendN(log, "dyn", 60);
    expect(await verifyStored(store, "user:dyn")).toMatchObject({ ok: true, size: 60 });
    const { hostIdentity } = await import("../../../src/guard/identity.js");
    const input = {
      action: "parameter.changed",
      payload: { name: "x", to: 1 },
      actor: hostIdentity("dyn"),
      idempotencyKey: "retry-1",
    };
    const a = await log.appendEntry("user:dyn", input);
    const b = await log.appendEntry("user:dyn", input);
    expect(b.seq).toBe(a.seq);
    expect((await store.head("user:dyn")).size).toBe(61);
  });

  it("a stale reservation (its append lost the race) does not block the key; a committed one does", async () => {
    const store = await openDynamoDbAuditStore({ client, tableName: await table("resv") });
    const c = freshChain();
    // Two appends at size 0 carry the same key: exactly one commits, the key is then used.
    const results = await Promise.allSettled(
      [0, 1].map((i) =>
        store.append({
          chainId: c,
          expectedSize: 0,
          entries: fakeEntries(c, 0, 1, { keys: ["K"], tag: `w${i}` }),
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect((await store.findByIdempotencyKey?.(c, "K"))?.seq).toBe(0);
    expect(
      code(
        await store
          .append({ chainId: c, expectedSize: 1, entries: fakeEntries(c, 1, 1, { keys: ["K"] }) })
          .catch((e) => e),
      ),
    ).toBe("ERR_AUDIT_APPEND_CONFLICT");
    // An append that reserved "L" at size 1 but lost the block to another writer leaves a stale reservation.
    await store
      .append({ chainId: c, expectedSize: 1, entries: fakeEntries(c, 1, 1, { keys: ["L"] }) })
      .catch(() => {});
    expect((await store.findByIdempotencyKey?.(c, "L"))?.seq).toBe(1);
  });

  it("refuses a batch larger than one item can hold", async () => {
    const store = await openDynamoDbAuditStore({ client, tableName: await table("big") });
    const c = freshChain();
    const big = fakeEntries(c, 0, 3).map((e) => ({ ...e, payload: "x".repeat(200_000) }));
    expect(
      code(await store.append({ chainId: c, expectedSize: 0, entries: big }).catch((e) => e)),
    ).toBe("ERR_INVALID_ARGUMENT");
    expect((await store.head(c)).size).toBe(0);
    expect(await collect(store.read(c, 0))).toEqual([]);
  });
});

describe("dynamodb multi-region refusal", () => {
  /** dynalite cannot create global tables: add the replica list a real global table reports. */
  function replicated(region: string): DynamoDbClientLike {
    return {
      config: { region: async () => region },
      async send(cmd: unknown) {
        const out = await client.send(cmd as never);
        if (cmd instanceof DescribeTableCommand)
          return {
            ...out,
            Table: {
              ...(out as { Table: object }).Table,
              Replicas: [{ RegionName: "eu-west-1" }, { RegionName: "us-east-1" }],
            },
          };
        return out;
      },
    };
  }

  it("a replicated (global) table is refused unless a home region is asserted", async () => {
    const tableName = await table("global");
    const err = await openDynamoDbAuditStore({ client: replicated("us-east-1"), tableName }).catch(
      (e) => e,
    );
    expect(code(err)).toBe("ERR_NOT_SUPPORTED");
    expect(String(err.message)).toMatch(/fork/);
  });

  it("a client outside the asserted home region is refused", async () => {
    const tableName = await table("global");
    expect(
      code(
        await openDynamoDbAuditStore({
          client: replicated("us-east-1"),
          tableName,
          homeRegion: "eu-west-1",
        }).catch((e) => e),
      ),
    ).toBe("ERR_NOT_SUPPORTED");
    expect(
      code(
        await openDynamoDbAuditStore({ client, tableName, homeRegion: "us-east-1" }).catch(
          (e) => e,
        ),
      ),
    ).toBe("ERR_NOT_SUPPORTED");
    const ok = await openDynamoDbAuditStore({
      client: replicated("eu-west-1"),
      tableName,
      homeRegion: "eu-west-1",
    });
    expect((await ok.head(freshChain())).size).toBe(0);
  });
});
