import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NOT_FOUND_MESSAGE } from "../../src/errors.js";
import {
  createMemoryTable,
  hostIdentity,
  type Identity,
  owned,
  runAs,
} from "../../src/guard/index.js";

interface Row {
  id: string;
  userId: string;
}

describe("owned() property", () => {
  it("the body runs exactly when every requested row exists and belongs to the caller", async () => {
    const users = ["u1", "u2", "u3"].map((u) => hostIdentity(u));
    const ids = ["r0", "r1", "r2", "r3", "r4", "r5"];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), {
          minLength: ids.length,
          maxLength: ids.length,
        }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(fc.constantFrom(...ids, "missing"), { minLength: 1, maxLength: 4 }),
        async (owners, caller, requested) => {
          const table = createMemoryTable<Row>({ name: "rows", idKey: "id", ownerKey: "userId" });
          for (const [i, o] of owners.entries()) {
            const who = users[o ?? -1];
            if (who) await table.forUser(who).insert({ id: ids[i] as string, userId: who.userId });
          }
          let ran = 0;
          const many = owned(
            {
              name: "prop.many",
              resource: "row",
              ids: (list: string[]) => list,
              load: (id: string, who: Identity) => table.forUser(who).get(id),
              owner: (r: Row) => r.userId,
            },
            async ({ rows }) => {
              ran++;
              return rows.map((r) => r.id);
            },
          );
          const me = users[caller] as Identity;
          const allMine = requested.every((id) => {
            const i = ids.indexOf(id);
            return i >= 0 && owners[i] === caller;
          });
          const result = await runAs(me, () => many(requested)).then(
            (v) => ({ ok: true as const, v }),
            (e: { code?: string; message?: string }) => ({ ok: false as const, e }),
          );
          if (allMine) {
            expect(result).toEqual({ ok: true, v: requested });
            expect(ran).toBe(1);
          } else {
            expect(result.ok).toBe(false);
            if (!result.ok) {
              expect(result.e.code).toBe("ERR_GUARD_NOT_FOUND");
              expect(result.e.message).toBe(NOT_FOUND_MESSAGE);
            }
            expect(ran).toBe(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
