import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fromHex } from "../../../src/audit/primitives/hex.js";
import { openSqliteAuditStore } from "../../../src/audit/storage/sqlite/store.js";
import type { StoredEntry } from "../../../src/audit/storage/store.js";
import { storeNodeReader } from "../../../src/audit/transparency/log.js";
import {
  inclusionProof,
  rootAtSize,
  verifyInclusion,
} from "../../../src/audit/transparency/merkle.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity } from "../../../src/guard/identity.js";
import { collect } from "./support/battery.js";
import { appendN, logFor, verifyStored, verifyStream } from "./support/chain.js";

const dir = mkdtempSync(join(tmpdir(), "kw-sqlite-ret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const code = (err: unknown) => (isKeywardenError(err) ? err.code : String(err));

describe("sqlite retention", () => {
  it("archive + prune: archive and live rows verify as one chain, proofs and checkpoints stay valid, pruned bytes leave the files", async () => {
    const path = join(dir, "ret.db");
    const store = await openSqliteAuditStore({ database: path });
    const { log } = logFor(store);
    const chain = "user:ret";
    const canary = `CANARY-${randomBytes(8).toString("hex")}`;
    await log.appendEntry(chain, {
      action: "parameter.changed",
      payload: { name: "old", to: canary },
      actor: hostIdentity("ret"),
    });
    await appendN(log, "ret", 39);
    await store.putCheckpoint?.(chain, { size: 40, note: "cp-40" });
    const rootBefore = await rootAtSize(storeNodeReader(store, chain), 40);
    const archive: StoredEntry[] = await collect(store.read(chain, 0, 30));
    expect(
      code(await store.pruneArchived(chain, 30, archive[28]?.hash as string).catch((e) => e)),
    ).toBe("ERR_INVALID_ARGUMENT");
    expect(
      code(
        await store
          .pruneArchived(chain, 40, (await store.head(chain)).headHash as string)
          .catch((e) => e),
      ),
    ).toBe("ERR_INVALID_ARGUMENT");
    expect(await store.pruneArchived(chain, 30, archive[29]?.hash as string)).toEqual({
      deleted: 30,
    });
    expect(
      [path, `${path}-wal`].some(
        (f) => existsSync(f) && readFileSync(f).includes(Buffer.from(canary)),
      ),
    ).toBe(false);
    await appendN(log, "ret", 5, "late");
    expect(await store.latestCheckpoint?.(chain)).toEqual({ size: 40, note: "cp-40" });
    async function* joined() {
      yield* archive;
      yield* store.read(chain, 30);
    }
    expect(await verifyStream(joined(), chain)).toMatchObject({ ok: true, size: 45 });
    // A tampered archive is caught at the exact seq.
    async function* forged() {
      yield* archive.map((e) =>
        e.seq === 12 ? { ...e, body: e.body.replace('"ts":"2', '"ts":"1') } : e,
      );
      yield* store.read(chain, 30);
    }
    expect(await verifyStream(forged(), chain)).toMatchObject({ ok: false, seq: 12 });
    expect((await verifyStored(store, chain)).ok).toBe(false);
    const reader = storeNodeReader(store, chain);
    expect(await rootAtSize(reader, 40)).toEqual(rootBefore);
    const proof = await inclusionProof(reader, 0, 45);
    expect(
      verifyInclusion(
        fromHex(archive[0]?.hash as string) as Uint8Array,
        0,
        45,
        proof,
        await rootAtSize(reader, 45),
      ),
    ).toBe(true);
    await store.close?.();
  });
});
