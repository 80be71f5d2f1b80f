/** Fault injection for the local server: error responses, latency and connection resets. */

/**
 * - `throttling`: KMS `400 ThrottlingException`, STS `400 Throttling` (the SDK retries these).
 * - `internal-error`: KMS `500 KMSInternalException`, STS `500 InternalFailure`.
 * - `service-unavailable`: a plain `503` with a non-JSON/XML body.
 * - `dependency-timeout`: KMS `503 DependencyTimeoutException`, STS `503 ServiceUnavailable`.
 * - `key-unavailable`: KMS `500 KeyUnavailableException` (STS: like `internal-error`).
 * - `latency`: delays the response by `latencyMs`, then serves the request normally.
 * - `connection-reset`: destroys the socket without a response.
 */
export type FaultKind =
  | "throttling"
  | "internal-error"
  | "service-unavailable"
  | "dependency-timeout"
  | "key-unavailable"
  | "latency"
  | "connection-reset";

/** What to inject and for which requests. */
export interface FaultSpec {
  readonly kind: FaultKind;
  /** Only this service (default: both). */
  readonly service?: "kms" | "sts";
  /** Only this operation, e.g. `"Decrypt"` or `"AssumeRoleWithWebIdentity"` (default: all). */
  readonly operation?: string;
  /** Only callers whose ARN or `aws:PrincipalArn` equals this (default: anyone). */
  readonly principal?: string;
  /** How many matching requests to affect (default 1; `Infinity` until cleared). */
  readonly times?: number;
  /** Delay for `latency` faults, in milliseconds (default 100). */
  readonly latencyMs?: number;
}

/** Live view of an injected fault. */
export interface FaultHandle {
  /** Matching requests still to be affected. */
  readonly remaining: number;
  /** Matching requests affected so far. */
  readonly fired: number;
  /** Stops injecting this fault. */
  clear(): void;
}

interface ActiveFault {
  readonly spec: FaultSpec;
  remaining: number;
  fired: number;
}

/** Which faults apply to one request: total added latency, then at most one failure. */
export interface FaultDecision {
  readonly latencyMs: number;
  readonly failure: Exclude<FaultKind, "latency"> | null;
}

export class FaultInjector {
  #active: ActiveFault[] = [];

  inject(spec: FaultSpec): FaultHandle {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new RangeError("times must be > 0");
    if (spec.latencyMs !== undefined && !(spec.latencyMs >= 0)) {
      throw new RangeError("latencyMs must be >= 0");
    }
    const fault: ActiveFault = { spec, remaining: times, fired: 0 };
    this.#active.push(fault);
    return {
      get remaining() {
        return fault.remaining;
      },
      get fired() {
        return fault.fired;
      },
      clear: () => {
        fault.remaining = 0;
        this.#active = this.#active.filter((f) => f !== fault);
      },
    };
  }

  clear(): void {
    for (const f of this.#active) f.remaining = 0;
    this.#active = [];
  }

  /** Consumes the faults that apply to this request. */
  take(service: "kms" | "sts", operation: string, principals: readonly string[]): FaultDecision {
    let latencyMs = 0;
    let failure: FaultDecision["failure"] = null;
    for (const fault of this.#active) {
      const { spec } = fault;
      if (fault.remaining <= 0) continue;
      if (spec.service !== undefined && spec.service !== service) continue;
      if (spec.operation !== undefined && spec.operation !== operation) continue;
      if (spec.principal !== undefined && !principals.includes(spec.principal)) continue;
      if (spec.kind === "latency") {
        latencyMs += spec.latencyMs ?? 100;
      } else if (failure === null) {
        failure = spec.kind;
      } else {
        continue;
      }
      fault.remaining -= 1;
      fault.fired += 1;
    }
    this.#active = this.#active.filter((f) => f.remaining > 0);
    return { latencyMs, failure };
  }
}
