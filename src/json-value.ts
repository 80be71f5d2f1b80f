/**
 * The JSON value type and the nesting limit shared by the canonical encoder (canonical.ts) and the
 * strict parser (json-parse.ts), kept apart so neither imports the other.
 *
 * @packageDocumentation
 */
/** A JSON value that can be canonicalized. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Maximum nesting depth accepted by {@link canonicalize} and {@link parseJson}. */
export const MAX_DEPTH = 64;
