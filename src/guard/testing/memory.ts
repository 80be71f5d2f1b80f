import { KeywardenError } from "../../errors.js";
import type { OwnedTable } from "../owned-table.js";
import { DUMP_ROWS, OVERWRITE_ROW } from "../test-hooks.js";

type Hooked<Row> = OwnedTable<Row> & {
  [DUMP_ROWS]?: () => Row[];
  [OVERWRITE_ROW]?: (row: Row) => void;
};

/**
 * Every row of a memory table (from `createMemoryTable`), across owners: for storage snapshots.
 *
 * @example
 * ```ts
 * snapshot: (w) => ({ orders: dumpTable(w.orders) }),
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a table that is not a keywarden memory table.
 */
export function dumpTable<Row>(table: OwnedTable<Row>): Row[] {
  const dump = (table as Hooked<Row>)[DUMP_ROWS];
  if (typeof dump !== "function") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "not a keywarden memory table");
  }
  return dump();
}

/**
 * Writes `row` into a memory table whoever owns it: for race probes ({@link IsolationSurface.tamper}).
 *
 * @example
 * ```ts
 * tamper: (w, t) => overwriteRow(w.orders, { id: t.id, userId: t.victim.userId, note: t.canary }),
 * ```
 * @throws {KeywardenError} `ERR_INVALID_ARGUMENT` for a table that is not a keywarden memory table.
 */
export function overwriteRow<Row>(table: OwnedTable<Row>, row: Row): void {
  const write = (table as Hooked<Row>)[OVERWRITE_ROW];
  if (typeof write !== "function") {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "not a keywarden memory table");
  }
  write(row);
}
