import { randomBytes } from "node:crypto";
import { inspect, isDeepStrictEqual } from "node:util";
import { runAs, runAsNobody } from "../context.js";
import type { Identity } from "../identity.js";
import { guardTestSwitches } from "../test-hooks.js";
import { createEffectRecorder } from "./recorder.js";
import type {
  EntryPoint,
  IsolationSeed,
  IsolationSurface,
  RecordedEffect,
  TamperRequest,
} from "./surface.js";

/** How one call ended. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Everything observed around one call in a fresh world. */
export interface Observation {
  readonly outcome: Outcome;
  readonly changed: boolean;
  readonly effects: readonly RecordedEffect[];
  readonly bypassed: number;
  readonly tamperCanary: string | undefined;
}

/** Options of one trial. */
export interface TrialPlan {
  /** Who calls: an identity, or `null` for no identity at all. */
  readonly as: Identity | null;
  /** Builds the arguments once the world is seeded. */
  readonly args: (seed: IsolationSeed) => readonly unknown[];
  /** Guard layer switched off (storage-only run). */
  readonly storageOnly?: boolean;
  /** Race probe: tamper with the checked row between the check and the body. */
  readonly race?: boolean;
}

/** Resolves an entry point into a callable with its `this`. */
export function resolveEntry(entry: EntryPoint): { fn: unknown; self: unknown } {
  if (typeof entry === "function") return { fn: entry, self: undefined };
  const [self, key] = entry;
  return { fn: (self as Record<string, unknown>)[key], self };
}

/** Text in which to look for canaries: value, error message, stack, cause chain and details. */
export function observableText(value: unknown): string {
  const parts: string[] = [];
  try {
    parts.push(JSON.stringify(value) ?? "");
  } catch {
    // Not JSON-serializable: inspect() below still covers it.
  }
  parts.push(
    inspect(value, { depth: 12, showHidden: true, getters: false, maxStringLength: null }),
  );
  if (value instanceof Error) parts.push(String(value.stack), value.message);
  return parts.join("\n");
}

/** The first canary found in `text`, if any. */
export function findCanary(text: string, canaries: readonly string[]): string | undefined {
  return canaries.find((c) => c.length > 0 && text.includes(c));
}

/** Runs one call in a fresh world and observes it. */
export async function runTrial<W>(
  surface: IsolationSurface<W>,
  users: { a: Identity; b: Identity },
  handler: string,
  plan: TrialPlan,
): Promise<{ observation: Observation; seed: IsolationSeed }> {
  const recorder = createEffectRecorder();
  const world = await surface.world(recorder);
  try {
    const seed = await surface.seed(world, users);
    const entry = surface.handlers(world)[handler];
    if (entry === undefined) throw new Error(`handler "${handler}" disappeared from the surface`);
    const { fn, self } = resolveEntry(entry);
    const args = plan.args(seed);
    const before = structuredClone(await surface.snapshot(world));
    const seen = recorder.effects.length;
    let tamperCanary: string | undefined;
    const switches = {
      bypassOwnerCheck: plan.storageOnly === true,
      bypassed: 0,
      ...(plan.race && surface.tamper
        ? {
            afterCheck: async (info: { resource: string; ids: readonly string[] }) => {
              if (tamperCanary !== undefined || info.ids[0] === undefined) return;
              tamperCanary = `CANARY-RACE-${randomBytes(6).toString("hex")}`;
              const request: TamperRequest = {
                resource: info.resource,
                id: info.ids[0],
                victim: users.b,
                canary: tamperCanary,
              };
              await surface.tamper?.(world, request);
            },
          }
        : {}),
    };
    const call = async () => (fn as (...a: unknown[]) => unknown).apply(self, [...args]);
    const outcome = await guardTestSwitches.run(switches, async (): Promise<Outcome> => {
      try {
        const value = plan.as ? await runAs(plan.as, call) : await runAsNobody(call);
        return { ok: true, value };
      } catch (error) {
        return { ok: false, error };
      }
    });
    const after = await surface.snapshot(world);
    const changed = plan.race ? false : !isDeepStrictEqual(before, after);
    return {
      seed,
      observation: {
        outcome,
        changed,
        effects: recorder.effects.slice(seen),
        bypassed: switches.bypassed,
        tamperCanary,
      },
    };
  } finally {
    await surface.dispose?.(world);
  }
}
