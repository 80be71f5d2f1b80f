import { KeywardenError } from "../errors.js";
import { assertIdentity, type Identity } from "./identity.js";
import { DUMP_ROWS, OVERWRITE_ROW } from "./test-hooks.js";

/**
 * One user's view of an {@link OwnedTable}: every read and write carries the owner predicate, so
 * a row written through A's handle can never be read, changed or deleted through B's.
 * Rows go in and come out as structured clones: callers never hold a reference into storage.
 */
export interface UserScopedTable<Row> {
  /** The user every operation is scoped to. */
  readonly userId: string;
  /** The caller's row with this id, or `undefined` (also when the row exists but is someone else's). */
  get(id: string): Promise<Row | undefined>;
  /** All of the caller's rows. */
  list(): Promise<Row[]>;
  /** Inserts a row; its owner field must be the caller. Throws if the id is taken (by anyone). */
  insert(row: Row): Promise<Row>;
  /** Replaces the caller's row by `change(current)`; `undefined` when it is not the caller's. */
  update(id: string, change: (current: Row) => Row): Promise<Row | undefined>;
  /** Deletes the caller's row; `false` when it is not the caller's. */
  delete(id: string): Promise<boolean>;
}

/** Read-only access across all users, for `operator` identities only. */
export interface OperatorTableView<Row> {
  get(id: string): Promise<Row | undefined>;
  list(): Promise<Row[]>;
}

/** A table of user-owned rows that can only be reached through {@link OwnedTable.forUser}. */
export interface OwnedTable<Row> {
  readonly name: string;
  /**
   * The handle scoped to `identity.userId`. An `operator` identity gets an empty scope (it owns
   * nothing and can write nothing), even when its id equals a user's id.
   */
  forUser(identity: Identity): UserScopedTable<Row>;
  /** Read-only view across users, for handlers that allow operators. Refuses non-operators. */
  forOperator(identity: Identity): OperatorTableView<Row>;
}

/** Options of {@link createMemoryTable}. */
export interface MemoryTableOptions<Row, IdKey extends keyof Row, OwnerKey extends keyof Row> {
  name: string;
  /** Property holding the row id (a string). */
  idKey: IdKey;
  /** Property holding the owning user id (a string). */
  ownerKey: OwnerKey;
}

type StringKeys<Row> = { [K in keyof Row]: Row[K] extends string ? K : never }[keyof Row];

const invalid = (message: string) => new KeywardenError("ERR_INVALID_ARGUMENT", message);

/**
 * An in-memory {@link OwnedTable} (tests, development, single-process bots). Operator identities
 * get an empty user scope (they own nothing); `forOperator` gives them a read-only view.
 *
 * @example
 * ```ts
 * const orders = createMemoryTable<Order>({ name: "orders", idKey: "id", ownerKey: "userId" });
 * await orders.forUser(alice).insert({ id: "o1", userId: alice.userId, symbol: "BTC/USDT" });
 * await orders.forUser(bob).get("o1"); // undefined
 * ```
 * @throws {KeywardenError} `forUser` throws `ERR_GUARD_UNAUTHENTICATED` for anything but a live
 * keywarden identity; `insert` throws `ERR_INVALID_ARGUMENT` for a foreign owner or a taken id;
 * `update` throws `ERR_INVALID_ARGUMENT` if `change` alters the id or the owner; `forOperator`
 * throws `ERR_GUARD_UNAUTHENTICATED` for a non-operator identity.
 */
export function createMemoryTable<
  Row extends object,
  IdKey extends StringKeys<Row> = StringKeys<Row>,
  OwnerKey extends StringKeys<Row> = StringKeys<Row>,
>(options: MemoryTableOptions<Row, IdKey, OwnerKey>): OwnedTable<Row> {
  const { name, idKey, ownerKey } = options;
  const rows = new Map<string, Row>();
  const ownerOf = (row: Row) => row[ownerKey] as unknown;
  const idOf = (row: Row) => row[idKey] as unknown;

  const table: OwnedTable<Row> & {
    [DUMP_ROWS]: () => Row[];
    [OVERWRITE_ROW]: (row: Row) => void;
  } = {
    name,
    [DUMP_ROWS]: () => [...rows.values()].map((r) => structuredClone(r)),
    [OVERWRITE_ROW]: (row: Row) => {
      rows.set(String(idOf(row)), structuredClone(row));
    },
    forUser(identity: Identity): UserScopedTable<Row> {
      /* Precondition: a scoped handle is only created for a live, keywarden-minted identity. */
      assertIdentity(identity);
      const userId = identity.userId;
      /* Precondition: an operator identity owns no rows, whatever its id. */
      const isOperator = identity.kind === "operator";
      const owns = (row: Row) => !isOperator && ownerOf(row) === userId;
      const mine = (id: string) => {
        const row = rows.get(id);
        return row !== undefined && owns(row) ? row : undefined;
      };
      return Object.freeze({
        userId,
        async get(id: string) {
          const row = mine(id);
          return row === undefined ? undefined : structuredClone(row);
        },
        async list() {
          return [...rows.values()].filter((r) => owns(r)).map((r) => structuredClone(r));
        },
        async insert(row: Row) {
          /* Precondition: a row is written only with the caller as its owner. */
          if (isOperator || ownerOf(row) !== userId) {
            throw invalid(`${name}: row owner must be the caller`);
          }
          const id = idOf(row);
          if (typeof id !== "string" || id.length === 0) throw invalid(`${name}: invalid id`);
          if (rows.has(id)) throw invalid(`${name}: id already exists`);
          rows.set(id, structuredClone(row));
          return structuredClone(row);
        },
        async update(id: string, change: (current: Row) => Row) {
          const row = mine(id);
          if (row === undefined) return undefined;
          const next = change(structuredClone(row));
          if (idOf(next) !== id || ownerOf(next) !== userId) {
            throw invalid(`${name}: update must not change the id or the owner`);
          }
          rows.set(id, structuredClone(next));
          return structuredClone(next);
        },
        async delete(id: string) {
          if (mine(id) === undefined) return false;
          return rows.delete(id);
        },
      });
    },
    forOperator(identity: Identity): OperatorTableView<Row> {
      assertIdentity(identity);
      if (identity.kind !== "operator") {
        throw new KeywardenError("ERR_GUARD_UNAUTHENTICATED", "no valid identity");
      }
      return Object.freeze({
        async get(id: string) {
          const row = rows.get(id);
          return row === undefined ? undefined : structuredClone(row);
        },
        async list() {
          return [...rows.values()].map((r) => structuredClone(r));
        },
      });
    },
  };
  return table;
}
