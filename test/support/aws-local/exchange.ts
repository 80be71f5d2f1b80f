/**
 * Per-request plumbing shared by the KMS and STS endpoints: the server context, response writing
 * (with the `Date` and `x-amzn-RequestId` headers AWS always sends), request records for the
 * counters, and fault application.
 */
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { AwsServiceError } from "./aws-error.js";
import type { RequestCounters, RequestRecord } from "./counters.js";
import type { FaultDecision, FaultInjector } from "./faults.js";
import type { CallerPrincipal, CredentialRegistry } from "./identity.js";
import type { KmsCall, KmsEnvironment } from "./kms.js";
import type { StsService } from "./sts.js";

/** Everything the endpoints need, built once by `startAwsLocal`. */
export interface ServerContext {
  readonly regions: ReadonlySet<string>;
  /** Regions STS accepts in a SigV4 scope (the configured ones plus the global `us-east-1`). */
  readonly stsRegions: ReadonlySet<string>;
  readonly registry: CredentialRegistry;
  readonly kms: KmsEnvironment;
  readonly kmsOperations: Readonly<Record<string, (call: KmsCall) => Record<string, unknown>>>;
  readonly sts: StsService;
  readonly counters: RequestCounters;
  readonly faults: FaultInjector;
  readonly now: () => number;
}

/** Who made a request and in which region (filled in once authenticated). */
export interface Outcome {
  principal: CallerPrincipal | null;
  region: string | null;
}

/** Writes one response with the headers AWS always sends (`Date`, `x-amzn-RequestId`). */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  requestId: string,
): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": requestId,
    date: new Date().toUTCString(),
  });
  res.end(body);
}

/** Records one request for the counters. */
export function record(
  ctx: ServerContext,
  service: "kms" | "sts",
  operation: string,
  o: Outcome,
  status: number,
  errorCode: string | null,
): void {
  const r: RequestRecord = {
    service,
    operation,
    principal: o.principal?.arn ?? null,
    principalArn: o.principal?.principalArn ?? null,
    principalTags: o.principal?.tags ?? {},
    region: o.region,
    status,
    errorCode,
    at: new Date(),
  };
  ctx.counters.record(r);
}

function faultError(
  service: "kms" | "sts",
  failure: NonNullable<FaultDecision["failure"]>,
): AwsServiceError | "reset" | "plain-503" {
  switch (failure) {
    case "connection-reset":
      return "reset";
    case "service-unavailable":
      return "plain-503";
    case "throttling":
      return new AwsServiceError(
        service === "kms" ? "ThrottlingException" : "Throttling",
        400,
        "Rate exceeded",
      );
    case "dependency-timeout":
      return service === "kms"
        ? new AwsServiceError(
            "DependencyTimeoutException",
            503,
            "The system timed out while trying to fulfill the request.",
          )
        : new AwsServiceError("ServiceUnavailable", 503, "Service is unable to handle request.");
    case "key-unavailable":
      if (service === "kms")
        return new AwsServiceError("KeyUnavailableException", 500, "The key is unavailable.");
      return new AwsServiceError(
        "InternalFailure",
        500,
        "We encountered an internal error. Please try again.",
      );
    case "internal-error":
      return service === "kms"
        ? new AwsServiceError("KMSInternalException", 500, "An internal error occurred.")
        : new AwsServiceError(
            "InternalFailure",
            500,
            "We encountered an internal error. Please try again.",
          );
  }
}

/** Consumes matching faults: sleeps for injected latency, then returns the failure to send, if any. */
export async function applyFaults(
  ctx: ServerContext,
  service: "kms" | "sts",
  operation: string,
  o: Outcome,
) {
  const principals = o.principal === null ? [] : [o.principal.arn, o.principal.principalArn];
  const decision = ctx.faults.take(service, operation, principals);
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  return decision.failure === null ? null : faultError(service, decision.failure);
}
