/** The KMS endpoint: AWS JSON 1.1 requests with `X-Amz-Target: TrentService.<Op>`. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsServiceError } from "./aws-error.js";
import { applyFaults, type Outcome, record, type ServerContext, send } from "./exchange.js";
import { type AuthFailure, authenticate } from "./identity.js";
import type { WireRequest } from "./sigv4.js";

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

/** Serves one KMS request (authenticate, fault, dispatch, respond). */
export async function handleKms(
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
