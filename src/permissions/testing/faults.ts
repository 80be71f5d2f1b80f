import type { ExchangeSpec, SimResponse } from "./exchange-spec.js";
import type { Fault } from "./types.js";

interface PendingFault {
  readonly fault: Fault;
  remaining: number;
}

/** What the server does for a faulted request: hang, or answer with this reply. */
export type FaultAction =
  | { readonly hang: true }
  | { readonly hang: false; readonly reply: SimResponse };

/** Queue of injected faults; each applies to the next `times` matching requests. */
export class FaultQueue {
  readonly #pending: PendingFault[] = [];

  add(fault: Fault): void {
    this.#pending.push({ fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.#pending.length = 0;
  }

  /** Consumes one use of the first fault matching this request, if any. */
  take(spec: ExchangeSpec, endpoint: string): FaultAction | undefined {
    const index = this.#pending.findIndex(
      (p) =>
        p.fault.exchange === spec.id &&
        (p.fault.endpoint === undefined || p.fault.endpoint === endpoint),
    );
    if (index < 0) return undefined;
    const pending = this.#pending[index] as PendingFault;
    pending.remaining -= 1;
    if (pending.remaining <= 0) this.#pending.splice(index, 1);
    return actionFor(pending.fault, spec);
  }
}

function actionFor(fault: Fault, spec: ExchangeSpec): FaultAction {
  switch (fault.kind) {
    case "timeout":
      return { hang: true };
    case "server-error":
      return { hang: false, reply: { status: 503, body: "Service Unavailable" } };
    case "malformed-json":
      return { hang: false, reply: { status: 200, body: '{"code":0,"data":{"truncated":' } };
    case "error-body-200":
      return { hang: false, reply: { status: 200, body: spec.errors.permissionDenied.body } };
    case "rate-limit":
      return { hang: false, reply: spec.errors.rateLimited };
    case "ip-not-allowed":
      return { hang: false, reply: spec.errors.ipNotAllowed };
    case "custom":
      return { hang: false, reply: { status: fault.status ?? 200, body: fault.body ?? "" } };
  }
}
