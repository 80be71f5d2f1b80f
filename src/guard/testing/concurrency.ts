import { runAs } from "../context.js";
import type { Identity } from "../identity.js";
import { type argsFor as ArgsFor, type ArgValue, short, signature } from "./probe-args.js";
import { callLabel, createEffectRecorder } from "./recorder.js";
import type { HandlerProbe, IsolationSeed, IsolationSurface } from "./surface.js";
import { findCanary, observableText, resolveEntry } from "./trial.js";

interface ConcurrentPlan<W> {
  surface: IsolationSurface<W>;
  users: { a: Identity; b: Identity };
  name: string;
  probe: HandlerProbe;
  allB: Record<number, (seed: IsolationSeed) => ArgValue>;
  argsFor: typeof ArgsFor;
  attackers: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One world, many interleaved calls: A with B's ids (must all be refused, cause no effect), A with
 * A's own ids (must never see B's data: catches identity cached in module state), and one call by
 * B (must succeed, and never see A's data). Half of A's calls start at once, before B's; the rest start with 0-3 ms jitter.
 * Returns the number of calls made.
 */
export async function concurrentProbe<W>(
  plan: ConcurrentPlan<W>,
  fail: (variant: string, problem: string) => void,
): Promise<number> {
  const { surface, users, name, probe } = plan;
  const variant = "concurrent A and B calls";
  const recorder = createEffectRecorder();
  const world = await surface.world(recorder);
  try {
    const seed = await surface.seed(world, users);
    const entry = surface.handlers(world)[name];
    if (!entry) return 0;
    const { fn, self } = resolveEntry(entry);
    const attackArgs = plan.argsFor(probe, plan.allB)(seed);
    const ownArgs = plan.argsFor(probe, {})(seed);
    const seen = recorder.effects.length;
    type Call = { label: string; who: Identity; args: readonly unknown[]; delay: number | null };
    const calls: Call[] = [];
    for (let i = 0; i < Math.max(2, plan.attackers); i++) {
      const delay = i < plan.attackers / 2 ? null : Math.floor(Math.random() * 4);
      calls.push(
        i % 2 === 0
          ? { label: `attack-${i}`, who: users.a, args: attackArgs, delay }
          : { label: `own-${i}`, who: users.a, args: ownArgs, delay },
      );
    }
    calls.push({
      label: "owner-b",
      who: users.b,
      args: attackArgs,
      delay: Math.floor(Math.random() * 4),
    });
    const results = await Promise.all(
      calls.map((c) =>
        callLabel
          .run(c.label, () =>
            runAs(c.who, async () => {
              if (c.delay !== null) await sleep(c.delay);
              return (fn as (...a: unknown[]) => unknown).apply(self, [...c.args]);
            }),
          )
          .then(
            (value) => ({ c, ok: true as const, value }),
            (error: unknown) => ({ c, ok: false as const, value: error }),
          ),
      ),
    );
    for (const r of results) {
      if (r.c.label === "owner-b") {
        if (!r.ok) {
          fail(variant, `the owner's call failed under concurrency (${signature(r.value)})`);
        }
        const seenA = findCanary(observableText(r.value), seed.a.canaries);
        if (seenA) fail(variant, `read leak under concurrency: B's call saw A's canary "${seenA}"`);
        continue;
      }
      if (r.c.label.startsWith("attack-") && r.ok) {
        fail(
          variant,
          `A's call with B's ids succeeded under concurrency (returned ${short(r.value)})`,
        );
      }
      const leaked = findCanary(observableText(r.value), seed.b.canaries);
      if (leaked) {
        const what = r.c.label.startsWith("own-") ? "A's call on A's own ids" : "A's call";
        fail(variant, `read leak under concurrency: ${what} saw B's canary "${leaked}"`);
      }
    }
    for (const e of recorder.effects.slice(seen)) {
      if (e.call?.startsWith("attack-") && !surface.deniedEffect?.(e)) {
        fail(variant, `side effect of A's attack: ${e.channel} ${short(e.detail)}`);
      }
      const leaked =
        e.call?.startsWith("own-") && findCanary(observableText(e.detail), seed.b.canaries);
      if (leaked) fail(variant, `A's own call sent B's canary "${leaked}" to ${e.channel}`);
    }
    return calls.length;
  } finally {
    await surface.dispose?.(world);
  }
}
