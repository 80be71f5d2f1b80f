import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/audit/core/log.js";
import {
  createPostgresAuditStore,
  migratePostgresAuditStore,
} from "../../../src/audit/storage/postgres/store.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { findPostgresBin } from "../../support/postgres.js";
import { collect } from "./support/battery.js";
import { verifyStored } from "./support/chain.js";
import { type RestartablePostgres, startRestartablePostgres } from "./support/pg-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(findPostgresBin() === null)("PostgreSQL restarted mid-run", () => {
  let server: RestartablePostgres;
  beforeAll(async () => {
    server = await startRestartablePostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("each append either succeeds once or fails with a typed retryable error; retries with the same idempotency key never duplicate", async () => {
    const pool = new pg.Pool({
      connectionString: server.url,
      max: 4,
      connectionTimeoutMillis: 2000,
    });
    pool.on("error", () => {}); // idle clients die with the server; the store sees it on next use
    try {
      await migratePostgresAuditStore(pool);
      const store = createPostgresAuditStore({ pool });
      const log = new AuditLog({ store });
      const chain = "user:faults";
      const actor = hostIdentity("faults");
      const LANES = 4;
      const EACH = 60;
      const acked = new Map<string, number>();
      const faults: unknown[] = [];
      const untyped: unknown[] = [];
      const lane = async (l: number) => {
        for (let i = 0; i < EACH; i++) {
          const key = `l${l}-${i}`;
          for (;;) {
            try {
              const e = await log.appendEntry(chain, {
                action: "parameter.changed",
                payload: { name: key, to: i },
                actor,
                idempotencyKey: key,
              });
              expect(acked.has(key)).toBe(false);
              acked.set(key, e.seq);
              break;
            } catch (err) {
              if (
                isKeywardenError(err, "ERR_AUDIT_STORE_UNAVAILABLE") &&
                err.details?.retryable === true
              )
                faults.push(err);
              else {
                untyped.push(err);
                throw err;
              }
              await sleep(100);
            }
          }
          await sleep(4);
        }
      };
      const running = Promise.all(Array.from({ length: LANES }, (_, l) => lane(l)));
      // Restart the server twice while the lanes are appending.
      for (const at of [40, 140]) {
        while (acked.size < at) await sleep(10);
        await server.halt();
        await sleep(300);
        await server.resume();
      }
      await running;
      expect(untyped).toEqual([]);
      expect(faults.length).toBeGreaterThan(0);
      expect(acked.size).toBe(LANES * EACH);
      // Exactly one entry per key: the retries of appends whose outcome was unknown did not duplicate.
      const rows = await collect(store.read(chain, 0));
      expect(rows).toHaveLength(LANES * EACH);
      expect(new Set(rows.map((r) => r.idempotencyKey)).size).toBe(LANES * EACH);
      for (const [key, seq] of acked) expect(rows[seq]?.idempotencyKey).toBe(key);
      expect(await verifyStored(store, chain)).toMatchObject({ ok: true, size: LANES * EACH });
    } finally {
      await pool.end();
    }
  }, 120_000);
});
