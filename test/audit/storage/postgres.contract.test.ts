import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { storeBattery } from "./support/battery.js";

describeWithPostgres("postgres audit store", () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 8 });
    await migratePostgresAuditStore(pool);
  });
  afterAll(async () => {
    await pool?.end();
  });
  storeBattery("postgres (group commit)", () => ({
    open: async () => createPostgresAuditStore({ pool }),
  }));
  storeBattery("postgres (one transaction per append)", () => ({
    open: async () => createPostgresAuditStore({ pool, groupCommit: false }),
  }));
});
