/**
 * The HTTP front door: reads each request, routes it to KMS (`X-Amz-Target: TrentService.*`) or STS
 * (Query protocol), authenticates it with SigV4, applies injected faults, counts it and writes the
 * response in the service's wire format. Never writes to the console.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { AwsServiceError } from "./aws-error.js";
import type { RequestCounters, RequestRecord } from "./counters.js";
import type { FaultDecision, FaultInjector } from "./faults.js";
import {
  type AuthFailure,
  authenticate,
  type CallerPrincipal,
  type CredentialRegistry,
} from "./identity.js";
import type { KmsCall, KmsEnvironment } from "./kms.js";
import type { WireRequest } from "./sigv4.js";
import { type StsService, stsError, stsResponse } from "./sts.js";

const MAX_BODY_BYTES = 1024 * 1024;

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

const KMS_AUTH_ERRORS: Record<AuthFailure, string> = {
  "missing-authentication": "MissingAuthenticationTokenException",
  "incomplete-signature": "IncompleteSignatureException",
  "signature-expired": "InvalidSignatureException",
  "wrong-scope": "InvalidSignatureException",
  "payload-hash-mismatch": "InvalidSignatureException",
  "signature-mismatch": "InvalidSignatureException",
  "unknown-access-key": "UnrecognizedClientException",
  "invalid-session-token": "UnrecognizedClientException",
  "expired-token": "ExpiredTokenException",
};

const STS_AUTH_ERRORS: Record<AuthFailure, [string, number]> = {
  "missing-authentication": ["MissingAuthenticationToken", 403],
  "incomplete-signature": ["IncompleteSignature", 400],
  "signature-expired": ["SignatureDoesNotMatch", 403],
  "wrong-scope": ["SignatureDoesNotMatch", 403],
  "payload-hash-mismatch": ["SignatureDoesNotMatch", 403],
  "signature-mismatch": ["SignatureDoesNotMatch", 403],
  "unknown-access-key": ["InvalidClientTokenId", 403],
  "invalid-session-token": ["InvalidClientTokenId", 403],
  "expired-token": ["ExpiredToken", 400],
};

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

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Writes one response with the headers AWS always sends (`Date`, `x-amzn-RequestId`). */
function send(
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

/** Handles one HTTP request; never throws (unexpected failures become a 500 without details). */
export async function handleRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(req);
    if (body === undefined) {
      send(res, 413, "text/plain", "Request entity too large", requestId);
      req.socket.destroy();
      return;
    }
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const wire: WireRequest = {
      method: req.method ?? "GET",
      path: q < 0 ? rawUrl : rawUrl.slice(0, q),
      query: q < 0 ? "" : rawUrl.slice(q + 1),
      rawHeaders: req.rawHeaders,
      body,
    };
    const target = req.headers["x-amz-target"];
    if (typeof target === "string") {
      await handleKms(ctx, wire, target, req, res, requestId);
    } else {
      await handleSts(ctx, wire, req, res, requestId);
    }
  } catch {
    send(res, 500, "text/plain", "Internal server error", requestId);
  }
}

interface Outcome {
  principal: CallerPrincipal | null;
  region: string | null;
}

function record(
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

async function applyFaults(
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

async function handleKms(
  ctx: ServerContext,
  wire: WireRequest,
  target: string,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const operation = target.startsWith("TrentService.")
    ? target.slice("TrentService.".length)
    : target;
  const outcome: Outcome = { principal: null, region: null };
  const fail = (error: AwsServiceError) => {
    record(ctx, "kms", operation, outcome, error.status, error.code);
    // Like local-kms, AccessDenied/UnsupportedOperation use a capital "Message"; others "message".
    const messageKey = /^(AccessDenied|UnsupportedOperation)Exception$/.test(error.code)
      ? "Message"
      : "message";
    const payload = JSON.stringify({ __type: error.code, [messageKey]: error.message });
    send(res, error.status, "application/x-amz-json-1.1", payload, requestId);
  };
  /* Precondition: a request is authenticated by its SigV4 signature before any fault or operation applies. */
  const auth = authenticate(wire, "kms", ctx.regions, ctx.registry, ctx.now());
  if (!auth.ok) return fail(new AwsServiceError(KMS_AUTH_ERRORS[auth.failure], 400, auth.message));
  outcome.principal = auth.principal;
  outcome.region = auth.region;
  const fault = await applyFaults(ctx, "kms", operation, outcome);
  if (fault === "reset") {
    record(ctx, "kms", operation, outcome, 0, "ConnectionReset");
    req.socket.destroy();
    return;
  }
  if (fault === "plain-503") {
    record(ctx, "kms", operation, outcome, 503, "ServiceUnavailable");
    send(res, 503, "text/plain", "Service Unavailable", requestId);
    return;
  }
  if (fault !== null) return fail(fault);
  const known = target.startsWith("TrentService.") && Object.hasOwn(ctx.kmsOperations, operation);
  const handler = known ? ctx.kmsOperations[operation] : undefined;
  if (handler === undefined) return fail(new AwsServiceError("UnknownOperationException", 400, ""));
  let input: unknown;
  try {
    input = JSON.parse(wire.body.length === 0 ? "{}" : wire.body.toString("utf8"));
  } catch {
    return fail(
      new AwsServiceError(
        "SerializationException",
        400,
        "Start of structure or map found where not expected.",
      ),
    );
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail(new AwsServiceError("SerializationException", 400, "Expected a JSON object."));
  }
  try {
    const out = handler({
      env: ctx.kms,
      principal: auth.principal,
      region: auth.region,
      input: input as Record<string, unknown>,
    });
    record(ctx, "kms", operation, outcome, 200, null);
    send(res, 200, "application/x-amz-json-1.1", JSON.stringify(out), requestId);
  } catch (error) {
    fail(
      error instanceof AwsServiceError
        ? error
        : new AwsServiceError("KMSInternalException", 500, "An internal error occurred."),
    );
  }
}

async function handleSts(
  ctx: ServerContext,
  wire: WireRequest,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const form = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
  const params = new URLSearchParams(form ? wire.body.toString("utf8") : wire.query);
  const operation = params.get("Action") ?? "Unknown";
  const outcome: Outcome = { principal: null, region: null };
  const fail = (error: AwsServiceError) => {
    record(ctx, "sts", operation, outcome, error.status, error.code);
    send(res, error.status, "text/xml", stsError(error, requestId), requestId);
  };
  const signed = req.headers.authorization !== undefined;
  // AssumeRoleWithWebIdentity is unsigned in AWS (the token is the credential); a signature, if
  // present, must still verify. Every other action must be signed.
  if (signed || operation !== "AssumeRoleWithWebIdentity") {
    const auth = authenticate(wire, "sts", ctx.stsRegions, ctx.registry, ctx.now());
    if (!auth.ok) {
      const [code, status] = STS_AUTH_ERRORS[auth.failure];
      return fail(new AwsServiceError(code, status, auth.message));
    }
    outcome.principal = auth.principal;
    outcome.region = auth.region;
  }
  const fault = await applyFaults(ctx, "sts", operation, outcome);
  if (fault === "reset") {
    record(ctx, "sts", operation, outcome, 0, "ConnectionReset");
    req.socket.destroy();
    return;
  }
  if (fault === "plain-503") {
    record(ctx, "sts", operation, outcome, 503, "ServiceUnavailable");
    send(res, 503, "text/plain", "Service Unavailable", requestId);
    return;
  }
  if (fault !== null) return fail(fault);
  if (params.get("Version") !== "2011-06-15") {
    return fail(
      new AwsServiceError("InvalidAction", 400, "Could not find operation for this version."),
    );
  }
  try {
    let result: string;
    if (operation === "AssumeRoleWithWebIdentity") {
      const assumed = await ctx.sts.assumeRoleWithWebIdentity(params);
      // Count the request against the session it created, so tests can count STS calls per user.
      outcome.principal = assumed.principal;
      result = assumed.xml;
    } else if (operation === "GetCallerIdentity" && outcome.principal !== null) {
      result = ctx.sts.getCallerIdentity(outcome.principal);
    } else {
      return fail(
        new AwsServiceError(
          "InvalidAction",
          400,
          `Could not find operation ${operation} for version 2011-06-15`,
        ),
      );
    }
    record(ctx, "sts", operation, outcome, 200, null);
    send(res, 200, "text/xml", stsResponse(operation, result, requestId), requestId);
  } catch (error) {
    fail(
      error instanceof AwsServiceError
        ? error
        : new AwsServiceError("InternalFailure", 500, "We encountered an internal error."),
    );
  }
}
