import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AuditLog } from "../../../src/audit/core/log.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
  type PgPoolLike,
} from "../../../src/audit/storage/postgres/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { createDatabase } from "../../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../../support/services.js";
import { collect } from "./support/battery.js";

/** A fault at the network boundary: the next COMMIT is sent (or not), then the connection "drops". */
function faultyPool(
  pool: pg.Pool,
  mode: { next: "none" | "after-commit" | "before-commit" },
): PgPoolLike {
  return {
    async connect() {
      const client = await pool.connect();
      return {
        async query(text: string, values?: readonly unknown[]) {
          if (text === "commit" && mode.next !== "none") {
            const when = mode.next;
            mode.next = "none";
            if (when === "after-commit") await client.query("commit");
            throw new Error("Connection terminated unexpectedly");
          }
          return client.query(text, values as unknown[]) as never;
        },
        release: (destroy?: Error | boolean) => client.release(destroy),
      };
    },
  };
}

describeWithPostgres("postgres: an append whose COMMIT acknowledgement is lost", () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await createDatabase(pgUrl as string), max: 4 });
    await migratePostgresAuditStore(pool);
  });
  afterAll(async () => {
    await pool?.end();
  });

  for (const when of ["after-commit", "before-commit"] as const) {
    it(`fails as retryable, and the retry with the same key writes it exactly once (${when})`, async () => {
      const mode = { next: "none" as "none" | "after-commit" | "before-commit" };
      const store = createPostgresAuditStore({ pool: faultyPool(pool, mode) });
      const log = new AuditLog({ store });
      const chain = `user:lost-${when}`;
      const actor = hostIdentity(`lost-${when}`);
      await log.appendEntry(chain, {
        action: "parameter.changed",
        payload: { name: "a", to: 1 },
        actor,
      });
      mode.next = when;
      const input = {
        action: "parameter.changed",
        payload: { name: "b", to: 2 },
        actor,
        idempotencyKey: "order-77",
      };
      const err = await log.appendEntry(chain, input).catch((e) => e);
      expect(isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE")).toBe(true);
      expect(err.details?.retryable).toBe(true);
      const retried = await log.appendEntry(chain, input);
      expect(retried.seq).toBe(1);
      const rows = await collect(store.read(chain, 0));
      expect(rows.map((r) => r.idempotencyKey ?? null)).toEqual([null, "order-77"]);
    });
  }
});
