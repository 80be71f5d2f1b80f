/**
 * Turns verified audit entries into rows a person can read: time, action, exchange, symbol, side,
 * amounts. Display only: nothing here decides validity (the library's verifier does).
 */
import type { AuditEntry } from "../../../src/audit/core/portable.js";

/** One row of the history table. */
export interface HistoryRow {
  readonly seq: number;
  /** Line (JSONL) or record (CSV) number in the export file. */
  readonly line: number;
  readonly ts: string;
  readonly action: string;
  /** Who acted, e.g. `session alice/s-1`. */
  readonly actor: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly side: string;
  readonly amount: string;
  readonly price: string;
  /** Other payload fields, shortened, for actions that are not orders. */
  readonly details: string;
  /** The payload was erased (personal data deletion); the entry still verifies. */
  readonly redacted: boolean;
  /** False for entries at or after the first problem in the file. */
  readonly verified: boolean;
}

const ORDER_FIELDS = new Set(["exchange", "symbol", "side", "amount", "price"]);
const MAX_DETAILS = 160;

function text(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

function detailsOf(value: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (ORDER_FIELDS.has(k)) continue;
    parts.push(`${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  }
  const s = parts.join(", ");
  return s.length > MAX_DETAILS ? `${s.slice(0, MAX_DETAILS - 1)}…` : s;
}

/** The display row of one export record. A malformed opening shows as unreadable, never throws. */
export function historyRow(
  entry: AuditEntry,
  opening: string | null,
  line: number,
  verified: boolean,
): HistoryRow {
  let value: Record<string, unknown> = {};
  let details = "";
  if (opening !== null) {
    try {
      // Display only: the library's verifier already checked this opening against the entry's
      // commitment (or the row is marked unverified), so a plain JSON.parse is enough here.
      const v = (JSON.parse(opening) as { value?: unknown }).value;
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        value = v as Record<string, unknown>;
        details = detailsOf(value);
      } else {
        details = JSON.stringify(v);
      }
    } catch {
      details = "(unreadable payload)";
    }
  }
  return {
    seq: entry.seq,
    line,
    ts: entry.ts,
    action: entry.action,
    actor: `${entry.actor.kind} ${entry.actor.userId}/${entry.actor.id}`,
    exchange: text(value.exchange),
    symbol: text(value.symbol),
    side: text(value.side),
    amount: text(value.amount),
    price: text(value.price),
    details,
    redacted: opening === null,
    verified,
  };
}
