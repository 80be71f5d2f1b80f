import { inspect } from "node:util";
import type { HandlerProbe, IdSlot, IsolationSeed, SeededUser } from "./surface.js";

/** One id, or a list for a batch position. */
export type ArgValue = string | string[];

/** Resource kind of a position. */
export const slotResource = (s: IdSlot) => (typeof s === "string" ? s : s.resource);
/** Whether a position takes a list. */
export const isBatch = (s: IdSlot) => typeof s !== "string";
/** A short, single-line rendering for failure messages. */
export const short = (v: unknown) =>
  inspect(v, { depth: 2, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 60 }).slice(
    0,
    200,
  );
/** `CODE: message` of a rejection, to compare not-found with not-yours. */
export const signature = (err: unknown) =>
  err instanceof Error
    ? `${String((err as { code?: unknown }).code ?? err.name)}: ${err.message}`
    : `non-error ${short(err)}`;

/** Builds probe arguments from the seed: A's ids everywhere unless overridden per position. */
export function argsFor(
  probe: HandlerProbe,
  overrides: Record<number, (seed: IsolationSeed) => ArgValue>,
) {
  return (seed: IsolationSeed) =>
    probe.args(
      ...(probe.ids.map(
        (slot, i) => overrides[i]?.(seed) ?? idsForSlot(seed.a, slot, "A"),
      ) as never[]),
    );
}

/** The seeded id (or first two ids, for a batch position) of `user` for a position. */
export function idsForSlot(user: SeededUser, slot: IdSlot, who: string): ArgValue {
  const ids = user.ids[slotResource(slot)] ?? [];
  if (ids.length === 0) throw new Error(`seed gives user ${who} no "${slotResource(slot)}" id`);
  return isBatch(slot) ? ids.slice(0, 2) : (ids[0] as string);
}
