/**
 * Guarded call vs the same call with the same owner check written inline by hand, same run.
 * Target: guarded / inline <= 1.2x. Two loaders: the real scoped memory table (structured clones,
 * the realistic case) and a bare Map lookup (worst case: the guard's own overhead dominates).
 */
import { bench, describe } from "vitest";
import { KeywardenError, NOT_FOUND_MESSAGE } from "../src/errors.js";
import {
  createMemoryTable,
  hostIdentity,
  type Identity,
  owned,
  requireIdentity,
  runAs,
} from "../src/guard/index.js";

interface Order {
  id: string;
  userId: string;
  note: string;
}

const a = hostIdentity("user-a");
const table = createMemoryTable<Order>({ name: "orders", idKey: "id", ownerKey: "userId" });
await table.forUser(a).insert({ id: "a1", userId: "user-a", note: "n" });
const bare = new Map<string, Order>([["a1", { id: "a1", userId: "user-a", note: "n" }]]);

const notFound = () => new KeywardenError("ERR_GUARD_NOT_FOUND", NOT_FOUND_MESSAGE);

function handlers(
  load: (id: string, who: Identity) => Order | undefined | Promise<Order | undefined>,
  tag: string,
) {
  const guarded = owned(
    {
      name: `bench.${tag}`,
      resource: "order",
      id: (id: string) => id,
      load,
      owner: (o: Order) => o.userId,
    },
    async ({ row }) => row.note,
  );
  const inline = async (id: string) => {
    const who = requireIdentity();
    if (who.kind === "operator") throw notFound();
    if (typeof id !== "string" || id.length === 0 || id.length > 256) throw notFound();
    const row = await load(id, who);
    if (!row || row.userId !== who.userId) throw notFound();
    return row.note;
  };
  return { guarded, inline };
}

/** 200 sequential calls per sample, so per-call noise on shared CPUs averages out. */
const CALLS = 200;
const opts = { time: 1500, warmupTime: 300 };
async function loop(fn: (id: string) => Promise<unknown>) {
  await runAs(a, async () => {
    for (let i = 0; i < CALLS; i++) await fn("a1");
  });
}

const scoped = handlers((id, who) => table.forUser(who).get(id), "scoped");
const map = handlers((id) => bare.get(id), "map");

describe("scoped memory table loader", () => {
  bench("inline owner check", () => loop(scoped.inline), opts);
  bench("owned() guard", () => loop(scoped.guarded), opts);
});

describe("bare Map loader (worst case)", () => {
  bench("inline owner check", () => loop(map.inline), opts);
  bench("owned() guard", () => loop(map.guarded), opts);
});
