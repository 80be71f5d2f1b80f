import { AsyncLocalStorage } from "node:async_hooks";
import { currentIdentity } from "../context.js";
import type { EffectRecorder, RecordedEffect } from "./surface.js";

/** The kit's label of the call in progress, stamped on effects (internal to the kit). */
export const callLabel = new AsyncLocalStorage<string>();

/**
 * A fresh {@link EffectRecorder}. Each effect is stamped with the user id in context, so an effect
 * caused under the attacker's identity is attributable even in concurrent probes.
 *
 * @example
 * ```ts
 * const recorder = createEffectRecorder();
 * recorder.record("exchange.cancelOrder", { id: "o1" });
 * ```
 * @throws never
 */
export function createEffectRecorder(): EffectRecorder {
  const effects: RecordedEffect[] = [];
  return {
    effects,
    record(channel: string, detail?: unknown) {
      effects.push(
        Object.freeze({
          channel,
          detail,
          actor: currentIdentity()?.userId,
          call: callLabel.getStore(),
        }),
      );
    },
  };
}

/**
 * Wraps an outbound port (an exchange client, notifier, queue) so that every method call is
 * recorded as `<channel>.<method>` before being forwarded.
 *
 * @example
 * ```ts
 * world(recorder) {
 *   const exchange = recordCalls(recorder, "exchange", new FakeExchange());
 *   return { service: createTradingService({ exchange }) };
 * }
 * ```
 * @throws never (forwards what the port throws)
 */
export function recordCalls<T extends object>(
  recorder: EffectRecorder,
  channel: string,
  port: T,
): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function" || typeof key === "symbol") return value;
      return function (this: unknown, ...args: unknown[]) {
        recorder.record(`${channel}.${key}`, args);
        return (value as (...a: unknown[]) => unknown).apply(
          this === receiver ? target : this,
          args,
        );
      };
    },
  });
}
