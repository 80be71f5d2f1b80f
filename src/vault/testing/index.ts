/**
 * `keywarden/vault/testing`: the conformance suite for {@link CredentialStore} adapters. Pass your
 * test framework's `describe`/`it` and a factory of fresh stores; the contract is registered:
 * exact round trips, owner scoping, compare-and-swap commits (also under concurrency), revocation
 * that later commits cannot clear, key-free emergency locks, the operator's user listing, and
 * shredding of one owner only. Every built-in store runs it.
 * The library does not import a test framework; failures are `node:assert` errors.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { runCredentialStoreConformance } from "keywarden/vault/testing";
 * runCredentialStoreConformance("my-store", { create: () => createMyStore() }, { describe, it });
 * ```
 *
 * @packageDocumentation
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type {
  CredentialRow,
  CredentialStore,
  GrantRow,
  UserKeyRow,
  UserLockRow,
} from "../stores/index.js";

/** The two functions of a vitest/jest/mocha-style runner the suite needs. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>): void;
}

/** How the suite gets stores. */
export interface CredentialStoreFactory {
  /** A fresh, empty store (its own directory, file, database or schema). */
  create(): Promise<CredentialStore>;
  /**
   * Whether the store offers the optional operator capability `listUserIds` (emergency
   * revocation needs it). Default true: the suite then requires and checks it.
   */
  listUserIds?: boolean;
}

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const userKey = (userId: string, seq: number): UserKeyRow => ({
  userId,
  kms: "local",
  keyId: "k1",
  wrappedDataKey: bytes(70),
  manifest: bytes(100),
  seq,
  createdAt: 1,
  updatedAt: 2,
});
const cred = (userId: string, credentialId: string, revision = 1): CredentialRow => ({
  userId,
  credentialId,
  exchange: "binance",
  label: null,
  revision,
  disabled: false,
  sealed: bytes(60),
  createdAt: 1,
  updatedAt: 2,
});
const grant = (userId: string, grantId: string): GrantRow => ({
  userId,
  grantId,
  exchanges: ["binance"],
  actions: ["trade"],
  createdAt: 1,
  expiresAt: 2_000_000_000_000,
  revokedAt: null,
  wrappedDataKey: bytes(70),
  keyId: "k1",
});
const lockRow = (userId: string, lockId: string): UserLockRow => ({
  userId,
  lockId,
  lockedAt: 1_700_000_000_000,
  reason: "suspected leak of the key store",
  lockedBy: "ops-1",
});
/** Compares rows with byte arrays as plain arrays (adapters may return Buffer subclasses). */
const plain = (v: unknown): unknown =>
  v instanceof Uint8Array
    ? [...v]
    : Array.isArray(v)
      ? v.map(plain)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
        : v;
const same = (actual: unknown, expected: unknown, what: string) =>
  deepStrictEqual(plain(actual), plain(expected), what);

/**
 * Registers the CredentialStore contract tests under `describe(name)`.
 *
 * @example
 * ```ts
 * runCredentialStoreConformance("memory", { create: async () => new MemoryCredentialStore() }, { describe, it });
 * ```
 * @throws never at registration; each test throws an `AssertionError` on a contract violation.
 */
export function runCredentialStoreConformance(
  name: string,
  factory: CredentialStoreFactory,
  runner: ConformanceRunner,
): void {
  const { describe, it } = runner;
  describe(`CredentialStore conformance: ${name}`, () => {
    it("round-trips rows exactly, scoped to their owner", async () => {
      const store = await factory.create();
      const a = store.forUser("alice");
      const k = userKey("alice", 1);
      const c = cred("alice", "c1");
      const g = grant("alice", "g1");
      strictEqual(
        await a.commit({ expectedSeq: null, userKey: k, credentials: [c], grants: [g] }),
        true,
      );
      same(await a.getUserKey(), k, "user row");
      same(await a.getCredential("c1"), c, "credential row");
      same(await a.getGrant("g1"), g, "grant row");
      same(await a.listCredentials(), [c], "credential list");
      same(await a.listGrants(), [g], "grant list");
      const b = store.forUser("bob");
      strictEqual(await b.getUserKey(), undefined, "other owner's user row");
      strictEqual(await b.getCredential("c1"), undefined, "other owner's credential");
      strictEqual(await b.getGrant("g1"), undefined, "other owner's grant");
      same(await b.listCredentials(), [], "other owner's list");
      strictEqual(await b.revokeGrant("g1", 5), false, "revoking another owner's grant");
      await b.shred();
      same(await a.getCredential("c1"), c, "shredding another owner");
    });

    it("commit is a compare-and-swap on the user's seq", async () => {
      const a = (await factory.create()).forUser("alice");
      strictEqual(await a.commit({ expectedSeq: null, userKey: userKey("alice", 1) }), true);
      strictEqual(
        await a.commit({
          expectedSeq: null,
          userKey: userKey("alice", 1),
          credentials: [cred("alice", "x")],
        }),
        false,
        "create over an existing user",
      );
      strictEqual(
        await a.commit({
          expectedSeq: 7,
          userKey: userKey("alice", 8),
          credentials: [cred("alice", "x")],
        }),
        false,
        "stale seq",
      );
      strictEqual(await a.getCredential("x"), undefined, "a refused commit wrote nothing");
      strictEqual(
        await a.commit({
          expectedSeq: 1,
          userKey: userKey("alice", 2),
          credentials: [cred("alice", "x", 2)],
        }),
        true,
      );
      strictEqual((await a.getUserKey())?.seq, 2);
      strictEqual((await a.getCredential("x"))?.revision, 2);
    });

    it("concurrent commits on the same seq: exactly one wins", async () => {
      const a = (await factory.create()).forUser("alice");
      await a.commit({ expectedSeq: null, userKey: userKey("alice", 1) });
      const results = await Promise.all(
        [1, 2, 3, 4].map((i) =>
          a.commit({
            expectedSeq: 1,
            userKey: userKey("alice", 2),
            credentials: [cred("alice", `c${i}`)],
          }),
        ),
      );
      strictEqual(results.filter(Boolean).length, 1, "winners");
      strictEqual((await a.listCredentials()).length, 1, "rows written");
    });

    it("Postcondition: a commit never clears a grant's revocation (nor restores its dropped key).", async () => {
      const a = (await factory.create()).forUser("alice");
      const g = grant("alice", "g1");
      await a.commit({ expectedSeq: null, userKey: userKey("alice", 1), grants: [g] });
      strictEqual(await a.revokeGrant("g1", 42), true);
      strictEqual(await a.revokeGrant("g1", 99), true);
      await a.commit({ expectedSeq: 1, userKey: userKey("alice", 2), grants: [g] });
      const after = await a.getGrant("g1");
      strictEqual(after?.revokedAt, 42, "revokedAt kept");
      strictEqual(after?.wrappedDataKey, null, "key copy stays dropped");
    });

    it("an emergency lock is key-free, owner-scoped, keeps the first lock, and clears only by its id", async () => {
      const store = await factory.create();
      const a = store.forUser("alice");
      const b = store.forUser("bob");
      strictEqual(await a.getLock(), undefined, "no lock at first");
      // A lock needs no user row: an operator can lock a user the store has only grants for.
      strictEqual(await a.lock(lockRow("alice", "l1")), true, "first lock placed");
      same(await a.getLock(), lockRow("alice", "l1"), "lock row");
      strictEqual(await a.lock(lockRow("alice", "l2")), false, "second lock refused");
      strictEqual((await a.getLock())?.lockId, "l1", "first lock kept");
      strictEqual(await b.getLock(), undefined, "other owner not locked");
      strictEqual(await b.clearLock("l1"), false, "other owner cannot clear it");
      strictEqual(await a.commit({ expectedSeq: null, userKey: userKey("alice", 1) }), true);
      strictEqual((await a.getLock())?.lockId, "l1", "a commit does not touch the lock");
      strictEqual(await a.clearLock("l2"), false, "stale lock id does not clear");
      strictEqual((await a.getLock())?.lockId, "l1");
      strictEqual(await a.clearLock("l1"), true, "cleared by its id");
      strictEqual(await a.getLock(), undefined);
      strictEqual(await a.clearLock("l1"), false, "clearing twice");
      strictEqual(await a.lock(lockRow("alice", "l3")), true, "can be locked again");
      strictEqual((await a.getUserKey())?.seq, 1, "locking leaves the user row alone");
    });

    if (factory.listUserIds !== false) {
      it("listUserIds lists every owner with any row (key, credential, grant or lock), sorted, once", async () => {
        const store = await factory.create();
        strictEqual(typeof store.listUserIds, "function", "listUserIds is implemented");
        const list = () => (store.listUserIds as () => Promise<string[]>)();
        same(await list(), [], "empty store");
        await store.forUser("carol").getUserKey(); // reads create nothing
        same(await list(), [], "reads create no user");
        await store.forUser("bob").commit({
          expectedSeq: null,
          userKey: userKey("bob", 1),
          credentials: [cred("bob", "c1"), cred("bob", "c2")],
          grants: [grant("bob", "g1")],
        });
        await store.forUser("alice").commit({ expectedSeq: null, userKey: userKey("alice", 1) });
        await store.forUser("dave").lock(lockRow("dave", "l1"));
        same(await list(), ["alice", "bob", "dave"], "owners");
        await store.forUser("bob").shred();
        await store.forUser("dave").shred();
        same(await list(), ["alice"], "shredded owners are gone");
      });
    }

    it("shred removes every row of the owner only", async () => {
      const store = await factory.create();
      const a = store.forUser("alice");
      const b = store.forUser("bob");
      await a.commit({
        expectedSeq: null,
        userKey: userKey("alice", 1),
        credentials: [cred("alice", "c")],
        grants: [grant("alice", "g")],
      });
      await b.commit({
        expectedSeq: null,
        userKey: userKey("bob", 1),
        credentials: [cred("bob", "c")],
      });
      await a.lock(lockRow("alice", "l1"));
      await b.lock(lockRow("bob", "l1"));
      await a.shred();
      strictEqual(await a.getUserKey(), undefined);
      strictEqual(await a.getLock(), undefined, "lock");
      strictEqual((await b.getLock())?.lockId, "l1", "other owner's lock untouched");
      same(await a.listCredentials(), [], "credentials");
      same(await a.listGrants(), [], "grants");
      strictEqual((await b.listCredentials()).length, 1, "other owner untouched");
    });
  });
}
