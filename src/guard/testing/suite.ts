import { randomBytes } from "node:crypto";
import { hostIdentity } from "../identity.js";
import { type HandlerEntry, handlerEntryOf, listHandlers } from "../registry.js";
import { concurrentProbe } from "./concurrency.js";
import {
  type ArgValue,
  argsFor,
  idsForSlot,
  isBatch,
  short,
  signature,
  slotResource,
} from "./probe-args.js";
import type {
  IdSlot,
  IsolationFinding,
  IsolationReport,
  IsolationSeed,
  IsolationSurface,
} from "./surface.js";
import { findCanary, type Observation, observableText, resolveEntry, runTrial } from "./trial.js";

/** Options of {@link runIsolationSuite}. */
export interface IsolationOptions {
  /** Also run the probes with the guard layer off, to prove storage holds alone. Default true. */
  storageOnly?: boolean;
  /**
   * Fail when a registered guarded handler of a resource kind this surface covers is missing from
   * the surface. Default true.
   */
  requireRegisteredOnSurface?: boolean;
  /** Attacker calls in the concurrency probe. Default 4. */
  concurrentCalls?: number;
}

type Run = IsolationFinding["run"];
/**
 * Runs the isolation probes over `surface` and returns a report (results as data). See
 * {@link assertIsolation} for the throwing form to use in a test.
 *
 * For each guarded entry point, in a fresh world per call: the owner replays (A with A's ids, B
 * with B's ids) must succeed observably; A with B's id in each position, a non-existent id, mixed
 * A+B batches, no identity, a race (if the surface can tamper) and concurrent A/B calls must be
 * refused without a read leak, a storage change or a side effect, and not-found must look exactly
 * like not-yours. Then the B-id and batch probes run again with the guard layer off.
 *
 * @example
 * ```ts
 * const report = await runIsolationSuite(ordersSurface);
 * expect(report.findings).toEqual([]);
 * ```
 * @throws never for findings (they are in the report); rethrows errors of the surface's own
 * `world`/`seed`/`snapshot` functions.
 */
export async function runIsolationSuite<W>(
  surface: IsolationSurface<W>,
  options: IsolationOptions = {},
): Promise<IsolationReport> {
  const users = surface.users?.() ?? {
    a: hostIdentity("iso-user-a"),
    b: hostIdentity("iso-user-b"),
  };
  const findings: IsolationFinding[] = [];
  let calls = 0;
  const fail = (handler: string, variant: string, run: Run, problem: string) =>
    findings.push({ handler, variant, run, problem });

  // 1. Enumerate the surface: every entry point must be guarded or deliberately public.
  const { createEffectRecorder } = await import("./recorder.js");
  const world0 = await surface.world(createEffectRecorder());
  const entries = new Map<string, HandlerEntry | undefined>();
  try {
    for (const [name, entry] of Object.entries(surface.handlers(world0))) {
      entries.set(name, handlerEntryOf(resolveEntry(entry).fn));
    }
  } finally {
    await surface.dispose?.(world0);
  }
  if (entries.size === 0) {
    fail("(none)", "registration", "surface", "the surface lists no handlers");
  }
  for (const [name, entry] of entries) {
    if (!entry) {
      fail(
        name,
        "registration",
        "surface",
        "handler is neither guarded (owned) nor publicHandler()",
      );
    } else if (entry.kind === "owned" && !surface.probes[name]) {
      fail(name, "registration", "surface", "guarded handler has no probe: add one to `probes`");
    }
  }
  for (const name of Object.keys(surface.probes)) {
    if (!entries.has(name))
      fail(name, "registration", "surface", "probe for a handler not on the surface");
  }
  if (options.requireRegisteredOnSurface !== false) {
    const resources = new Set(
      Object.values(surface.probes).flatMap((p) => p.ids.map(slotResource)),
    );
    const onSurface = new Set([...entries.values()].map((e) => e?.name));
    for (const h of listHandlers()) {
      if (h.kind === "owned" && h.resource && resources.has(h.resource) && !onSurface.has(h.name)) {
        fail(
          h.name,
          "registration",
          "surface",
          `registered guarded "${h.resource}" handler is not on the surface`,
        );
      }
    }
  }

  // 2. Probe every guarded (and probed public) entry point.
  for (const [name, entry] of entries) {
    const probe = surface.probes[name];
    if (!entry || !probe) continue;
    const trial = async (plan: Parameters<typeof runTrial<W>>[3]) => {
      calls++;
      return runTrial(surface, users, name, plan);
    };
    const denied = (variant: string, run: Run, o: Observation, canaries: readonly string[]) => {
      const leaked = findCanary(
        observableText(o.outcome.ok ? o.outcome.value : o.outcome.error),
        canaries,
      );
      if (leaked) {
        fail(
          name,
          variant,
          run,
          `read leak: ${o.outcome.ok ? "result" : "error"} contains B's canary "${leaked}"`,
        );
      }
      if (o.changed) fail(name, variant, run, "storage modified");
      for (const e of o.effects) {
        const inEffect = findCanary(observableText(e.detail), canaries);
        if (inEffect)
          fail(name, variant, run, `read leak via side effect ${e.channel}: canary "${inEffect}"`);
        if (!surface.deniedEffect?.(e))
          fail(name, variant, run, `side effect: ${e.channel} ${short(e.detail)}`);
      }
    };
    const mustReject = (variant: string, o: Observation) => {
      if (o.outcome.ok)
        fail(name, variant, "guarded", `call succeeded (returned ${short(o.outcome.value)})`);
    };
    const bOf = (slot: IdSlot) => (seed: IsolationSeed) =>
      isBatch(slot) ? [idsForSlot(seed.b, slot, "B")[0] as string] : idsForSlot(seed.b, slot, "B");
    const missing = (slot: IdSlot) => () => {
      const id = `kw-missing-${randomBytes(6).toString("hex")}`;
      return isBatch(slot) ? [id] : id;
    };
    const mixed = (slot: IdSlot) => (seed: IsolationSeed) => [
      (idsForSlot(seed.a, slot, "A") as string[])[0] as string,
      (idsForSlot(seed.b, slot, "B") as string[])[0] as string,
    ];
    const allB = Object.fromEntries(
      probe.ids.map((s, i) => [i, (seed: IsolationSeed) => idsForSlot(seed.b, s, "B")]),
    );
    const at = (i: number) => (probe.ids.length > 1 ? ` in position ${i}` : "");

    try {
      if (entry.kind === "public") {
        for (const [i, slot] of probe.ids.entries()) {
          const { observation, seed } = await trial({
            as: users.a,
            args: argsFor(probe, { [i]: bOf(slot) }),
          });
          const text = observableText(
            observation.outcome.ok ? observation.outcome.value : observation.outcome.error,
          );
          const leaked = findCanary(text, seed.b.canaries);
          if (leaked)
            fail(
              name,
              `B's id${at(i)} (public handler)`,
              "guarded",
              `read leak: B's canary "${leaked}"`,
            );
        }
        continue;
      }
      // Owner replays: the probe must do something observable for the rightful owner.
      for (const [who, identity, overrides] of [
        ["A", users.a, {}],
        ["B", users.b, allB],
      ] as const) {
        const { observation: o, seed } = await trial({
          as: identity,
          args: argsFor(probe, overrides),
        });
        const own = who === "A" ? seed.a.canaries : seed.b.canaries;
        const variant = `owner replay as ${who} with ${who}'s ids`;
        if (!o.outcome.ok) {
          fail(
            name,
            variant,
            "guarded",
            `probe is not meaningful: the owner's call failed (${signature(o.outcome.error)})`,
          );
        } else if (
          !o.changed &&
          o.effects.length === 0 &&
          !findCanary(observableText(o.outcome.value), own)
        ) {
          fail(
            name,
            variant,
            "guarded",
            "probe is not meaningful: the owner's call had no observable effect",
          );
        }
      }
      // Cross-user, missing and batch variants, guarded.
      for (const [i, slot] of probe.ids.entries()) {
        const asB = await trial({ as: users.a, args: argsFor(probe, { [i]: bOf(slot) }) });
        mustReject(`B's id${at(i)}`, asB.observation);
        denied(`B's id${at(i)}`, "guarded", asB.observation, asB.seed.b.canaries);
        const none = await trial({ as: users.a, args: argsFor(probe, { [i]: missing(slot) }) });
        mustReject(`non-existent id${at(i)}`, none.observation);
        denied(`non-existent id${at(i)}`, "guarded", none.observation, none.seed.b.canaries);
        if (!asB.observation.outcome.ok && !none.observation.outcome.ok) {
          const x = signature(asB.observation.outcome.error);
          const y = signature(none.observation.outcome.error);
          if (x !== y)
            fail(
              name,
              `non-existent id${at(i)}`,
              "guarded",
              `not-yours and not-found differ: "${x}" vs "${y}"`,
            );
        }
        if (isBatch(slot)) {
          const mix = await trial({ as: users.a, args: argsFor(probe, { [i]: mixed(slot) }) });
          mustReject(`mixed batch A+B${at(i)}`, mix.observation);
          denied(`mixed batch A+B${at(i)}`, "guarded", mix.observation, mix.seed.b.canaries);
        }
      }
      if (probe.ids.length > 1) {
        const every = await trial({ as: users.a, args: argsFor(probe, allB) });
        mustReject("B's ids in every position", every.observation);
        denied("B's ids in every position", "guarded", every.observation, every.seed.b.canaries);
      }
      const anon = await trial({ as: null, args: argsFor(probe, {}) });
      mustReject("no identity", anon.observation);
      if (
        !anon.observation.outcome.ok &&
        signature(anon.observation.outcome.error).split(":")[0] !== "ERR_GUARD_UNAUTHENTICATED"
      ) {
        fail(
          name,
          "no identity",
          "guarded",
          `expected ERR_GUARD_UNAUTHENTICATED, got "${signature(anon.observation.outcome.error)}"`,
        );
      }
      denied("no identity", "guarded", anon.observation, anon.seed.b.canaries);
      if (surface.tamper) {
        const race = await trial({ as: users.a, args: argsFor(probe, {}), race: true });
        const o = race.observation;
        const canaries = [...race.seed.b.canaries, ...(o.tamperCanary ? [o.tamperCanary] : [])];
        const leaked = findCanary(
          observableText(o.outcome.ok ? o.outcome.value : o.outcome.error),
          canaries,
        );
        if (leaked)
          fail(
            name,
            "race: row changed owner after the check",
            "guarded",
            `body re-read by id: B's canary "${leaked}" reached the result`,
          );
        for (const e of o.effects) {
          const c = findCanary(observableText(e.detail), canaries);
          if (c)
            fail(
              name,
              "race: row changed owner after the check",
              "guarded",
              `body re-read by id: side effect ${e.channel} carries B's canary "${c}"`,
            );
        }
      }
      calls += await concurrentProbe(
        { surface, users, name, probe, allB, argsFor, attackers: options.concurrentCalls ?? 4 },
        (variant, problem) => fail(name, variant, "guarded", problem),
      );

      // Storage-only run: the same attacks with the guard layer off.
      if (options.storageOnly !== false) {
        const variants: [string, Record<number, (seed: IsolationSeed) => ArgValue>][] =
          probe.ids.flatMap((slot, i) => [
            [`B's id${at(i)}`, { [i]: bOf(slot) }] as [
              string,
              Record<number, (seed: IsolationSeed) => ArgValue>,
            ],
            ...(isBatch(slot)
              ? [
                  [`mixed batch A+B${at(i)}`, { [i]: mixed(slot) }] as [
                    string,
                    Record<number, (seed: IsolationSeed) => ArgValue>,
                  ],
                ]
              : []),
          ]);
        if (probe.ids.length > 1) variants.push(["B's ids in every position", allB]);
        for (const [variant, overrides] of variants) {
          const { observation: o, seed } = await trial({
            as: users.a,
            args: argsFor(probe, overrides),
            storageOnly: true,
          });
          if (o.bypassed === 0) {
            fail(
              name,
              variant,
              "storage-only",
              "the guard-off switch did not reach this handler (not an owned() handler of this keywarden copy?)",
            );
          }
          denied(variant, "storage-only", o, seed.b.canaries);
        }
      }
    } catch (err) {
      fail(
        name,
        "setup",
        "surface",
        `probe could not run: ${err instanceof Error ? err.message : short(err)}`,
      );
    }
  }

  return {
    ok: findings.length === 0,
    surface: surface.name,
    findings,
    calls,
    handlers: [...entries].map(([name, e]) => ({ name, kind: e?.kind ?? "unguarded" })),
  };
}
