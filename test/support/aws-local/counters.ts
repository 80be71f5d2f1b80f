/** Per-request records kept by the local server, for tests that assert request counts. */

/** One HTTP request the server received (every attempt counts, including failed ones). */
export interface RequestRecord {
  readonly service: "kms" | "sts";
  /** `TrentService.<Op>` suffix for KMS, the `Action` parameter for STS (`"Unknown"` if absent). */
  readonly operation: string;
  /** Caller ARN once authenticated (session or user ARN); `null` for unsigned/failed-auth requests. */
  readonly principal: string | null;
  /** `aws:PrincipalArn` of the caller (role ARN for sessions); `null` when unauthenticated. */
  readonly principalArn: string | null;
  /** Session tags of the caller (e.g. `{ userId: "u-1" }`), empty when none. */
  readonly principalTags: Readonly<Record<string, string>>;
  /** Region from the SigV4 scope; `null` for unsigned requests. */
  readonly region: string | null;
  /** HTTP status sent (0 when the connection was reset by a fault). */
  readonly status: number;
  /** Error code sent (`__type` / `<Code>`), `null` on success. */
  readonly errorCode: string | null;
  /** Wall-clock time the request arrived. */
  readonly at: Date;
}

/** Filter for {@link RequestCounters.count}; every given field must match. */
export interface RequestFilter {
  readonly service?: "kms" | "sts";
  readonly operation?: string;
  /** Matches the caller ARN or its `aws:PrincipalArn` (so a role ARN counts all its sessions). */
  readonly principal?: string;
  /** Matches callers carrying this session tag value, e.g. `{ userId: "u-1" }`. */
  readonly tags?: Readonly<Record<string, string>>;
  readonly region?: string;
  readonly outcome?: "ok" | "error";
  readonly errorCode?: string;
}

function matches(r: RequestRecord, f: RequestFilter): boolean {
  if (f.service !== undefined && r.service !== f.service) return false;
  if (f.operation !== undefined && r.operation !== f.operation) return false;
  if (f.principal !== undefined && r.principal !== f.principal && r.principalArn !== f.principal) {
    return false;
  }
  if (f.tags !== undefined && !Object.entries(f.tags).every(([k, v]) => r.principalTags[k] === v)) {
    return false;
  }
  if (f.region !== undefined && r.region !== f.region) return false;
  if (
    f.outcome !== undefined &&
    (r.errorCode === null && r.status === 200 ? "ok" : "error") !== f.outcome
  ) {
    return false;
  }
  if (f.errorCode !== undefined && r.errorCode !== f.errorCode) return false;
  return true;
}

/**
 * Request counters per service / operation / principal.
 * @example
 * ```ts
 * aws.counters.count({ service: "kms", operation: "Decrypt", tags: { userId: "u-1" } }); // → 1
 * ```
 */
export class RequestCounters {
  readonly #records: RequestRecord[] = [];

  /** @internal Called by the server for every request. */
  record(r: RequestRecord): void {
    this.#records.push(r);
  }

  /** Number of requests matching `filter` (all requests when omitted), or a predicate. */
  count(filter: RequestFilter | ((r: RequestRecord) => boolean) = {}): number {
    const test = typeof filter === "function" ? filter : (r: RequestRecord) => matches(r, filter);
    return this.#records.filter(test).length;
  }

  /** A copy of every record so far, oldest first. */
  records(): RequestRecord[] {
    return [...this.#records];
  }

  /** Forgets all records. */
  reset(): void {
    this.#records.length = 0;
  }
}
