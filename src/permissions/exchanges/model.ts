/**
 * The permission model of one exchange, as one cited table: every permission value the exchange
 * documents, what each grants, which fund-moving endpoints it unlocks, and where the exchange's own
 * documentation says so. Parsers derive their token tables from the model
 * ({@link grantTable}), docs/permissions.md is generated from it, and a test walks it, so the
 * code, the docs and the citations cannot drift apart.
 *
 * @packageDocumentation
 */

/**
 * What a permission token grants. `none` = known, grants none of the tracked capabilities.
 * `unknown` = documented but not explained: withdraw and transfer read as `"unknown"` (fail closed).
 */
export type Grant = "read" | "trade" | "withdraw" | "transfer" | "none" | "unknown";

/** How a spec stands against the reference (see docs/permissions.md). */
export type SpecStatus =
  /** Parsed from a documented response; may accept keys. */
  | "confirmed"
  /** Endpoint exists but the answer is unconfirmed: can only ever reject or report unknown. */
  | "unconfirmed"
  /** No permission endpoint: an opt-in probe at best; can only ever reject or report unknown. */
  | "probe-only"
  /** No endpoint and no safe probe: always unknown, no call is made. */
  | "unsupported";

/** Where a statement comes from. */
export interface Citation {
  /** The page, with its anchor when it has one. */
  readonly url: string;
  /** The section (heading, table or field name) on that page that says so. */
  readonly section: string;
  /**
   * `primary`: the exchange's own API reference, official SDK or API-doc repository.
   * `third-party`: a copy or SDK by someone else, used only where no official text could be had.
   */
  readonly kind: "primary" | "third-party";
  /**
   * A short verbatim extract of the cited section that supports the reading, so a reviewer can
   * check the citation without re-deriving it. Required (by test) for every value a parser may
   * accept and for every transfer path of a confirmed model.
   */
  readonly quote?: string;
}

/** One permission value exactly as the exchange returns it. */
export interface PermissionValue {
  /** The value as it appears in the response (a token, a code, a flag name). */
  readonly value: string;
  /** Where in the response it appears, e.g. `data[0].perm` or `enableWithdrawals`. */
  readonly field: string;
  /**
   * What it grants. `none` = documented and grants none of the tracked capabilities. `unknown` =
   * listed by the docs but not explained: the parser treats it as possibly granting withdraw and
   * transfer (fail closed).
   */
  readonly grants: readonly Grant[];
  /** Endpoints this value unlocks that move funds out of the key's account (`METHOD /path`). */
  readonly fundMovingEndpoints: readonly string[];
  readonly cite: Citation;
  /** Why the reading is what it is, especially for `unknown` and master/sub-dependent values. */
  readonly note?: string;
  /**
   * When the grant depends on the account type: `master` = grants the listed capabilities only on
   * a master account key (and `unknown` when the response does not say which), `sub` likewise.
   */
  readonly accountType?: "master" | "sub";
}

/** A way funds can leave the key's account, and what the key needs for it. */
export interface TransferPath {
  /** `METHOD /path` or a named product feature. */
  readonly endpoint: string;
  /** What it does, e.g. "master → sub-account transfer". */
  readonly moves: string;
  /** The permission values that unlock it (values from {@link PermissionModel.values}). */
  readonly requires: readonly string[];
  readonly cite: Citation;
}

/** One exchange's permission model. */
export interface PermissionModel {
  /** The exchange id (ccxt id where ccxt has the exchange). */
  readonly exchange: string;
  readonly status: SpecStatus;
  /** The permission read-back the detector calls (`METHOD /path`), or `null` when none exists. */
  readonly endpoint: string | null;
  /** Every documented value, once per field it appears in. */
  readonly values: readonly PermissionValue[];
  /** Every fund-moving path found in the docs. */
  readonly transferPaths: readonly TransferPath[];
  /** Account-level rules that change a value's meaning, each cited. */
  readonly accountRules: readonly { readonly rule: string; readonly cite: Citation }[];
  /** Anything a reviewer should know: gaps, assumptions, what is unconfirmed. */
  readonly notes?: readonly string[];
}

/**
 * The token table a parser reads a field with: value → grants, from the model's values for
 * `field` (every field when omitted). A value the table lacks is an UNKNOWN_TOKEN.
 *
 * @example
 * ```ts
 * const TOKENS = grantTable(okxModel, "data[0].perm");
 * readTokens(["read_only", "trade"], TOKENS);
 * ```
 * @throws Error when two entries for the same value in the same field disagree (a model bug).
 */
export function grantTable(
  model: PermissionModel,
  field?: string,
): Readonly<Record<string, readonly Grant[]>> {
  const table: Record<string, readonly Grant[]> = {};
  for (const v of model.values) {
    if (field !== undefined && v.field !== field) continue;
    if (Object.hasOwn(table, v.value)) {
      throw new Error(`permission model ${model.exchange}: value ${v.value} listed twice`);
    }
    table[v.value] = Object.freeze([...v.grants]);
  }
  return Object.freeze(table);
}

/** Helper for the tables: a primary citation. */
export const primary = (url: string, section: string, quote?: string): Citation => ({
  url,
  section,
  kind: "primary",
  ...(quote === undefined ? {} : { quote }),
});

/** Helper for the tables: a third-party citation (say why in the value's note). */
export const thirdParty = (url: string, section: string, quote?: string): Citation => ({
  url,
  section,
  kind: "third-party",
  ...(quote === undefined ? {} : { quote }),
});

/** Helper for the tables: one value with no fund-moving endpoint of its own. */
export function plain(
  value: string,
  field: string,
  grants: readonly Grant[],
  cite: Citation,
  note?: string,
): PermissionValue {
  return { value, field, grants, fundMovingEndpoints: [], cite, ...(note ? { note } : {}) };
}
