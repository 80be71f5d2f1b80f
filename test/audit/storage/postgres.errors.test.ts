import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { fakeEntries } from "./support/battery.js";

describeWithPostgres("postgres audit store: errors", () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 2 });
    await migratePostgresAuditStore(pool);
  });
  afterAll(async () => {
    await pool?.end();
  });

  it("a database error never carries row values (PostgreSQL quotes the failing row in `detail`)", async () => {
    const store = createPostgresAuditStore({ pool });
    const canary = `CANARY-${randomBytes(8).toString("hex")}`;
    const [e] = fakeEntries("user:err", 0, 1);
    // A malformed hash trips the CHECK constraint, whose server-side detail contains the whole row.
    const bad = {
      ...(e as NonNullable<typeof e>),
      hash: "not-a-hash",
      payload: `{"salt":"00","value":"${canary}"}`,
    };
    const err = await store
      .append({ chainId: "user:err", expectedSize: 0, entries: [bad] })
      .catch((x) => x);
    expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
    expect(err.details).toMatchObject({ retryable: false, sqlState: "23514" });
    for (const text of [
      err.message,
      String(err.stack),
      JSON.stringify(err),
      inspect(err, { depth: 10, showHidden: true }),
    ])
      expect(text).not.toContain(canary);
    expect(err.cause).toBeUndefined();
  });

  it("a refused connection is a typed retryable error", async () => {
    const dead = new pg.Pool({
      connectionString: "postgres://x:y@127.0.0.1:1/none",
      connectionTimeoutMillis: 1000,
    });
    try {
      const err = await createPostgresAuditStore({ pool: dead })
        .head("user:x")
        .catch((x) => x);
      expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
      expect(err.details?.retryable).toBe(true);
    } finally {
      await dead.end();
    }
  });
});
