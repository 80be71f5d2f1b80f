/**
 * AWS Signature Version 4 verification, written from the SigV4 specification
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), not from SDK code.
 *
 * The server recomputes the canonical request from the bytes it actually received (method, the
 * wire path, the raw query, the raw header list and the body), derives the signing key from the
 * caller's secret and the credential scope, and compares signatures in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The parts of an HTTP request that SigV4 covers, as received on the wire. */
export interface WireRequest {
  readonly method: string;
  /** Path as sent on the wire (still percent-encoded), without the query string. */
  readonly path: string;
  /** Raw query string without the leading `?` (may be empty). */
  readonly query: string;
  /** `IncomingMessage.rawHeaders`: alternating names and values, duplicates preserved. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** The `Authorization: AWS4-HMAC-SHA256 …` header, parsed. */
export interface ParsedAuthorization {
  readonly accessKeyId: string;
  /** `yyyymmdd` from the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Why a request failed SigV4 checks; the protocol layers map these onto service error codes. */
export type SigV4Failure =
  | "missing-authentication"
  | "incomplete-signature"
  | "signature-expired"
  | "wrong-scope"
  | "payload-hash-mismatch"
  | "signature-mismatch";

export type SigV4Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: SigV4Failure; readonly message: string };

/** Maximum difference between the request's `x-amz-date` and the server clock (AWS: 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const ALGORITHM = "AWS4-HMAC-SHA256";
const AMZ_DATE = /^(\d{8})T(\d{2})(\d{2})(\d{2})Z$/;

function fail<T>(failure: SigV4Failure, message: string): SigV4Result<T> {
  return { ok: false, failure, message };
}

/** Lower-cased header name → values in arrival order. */
export function headerMap(rawHeaders: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const list = map.get(name) ?? [];
    list.push(rawHeaders[i + 1] as string);
    map.set(name, list);
  }
  return map;
}

/** Parses the Authorization header; `undefined` input means the request is unsigned. */
export function parseAuthorization(header: string | undefined): SigV4Result<ParsedAuthorization> {
  if (header === undefined || header.length === 0) {
    return fail("missing-authentication", "Missing Authentication Token");
  }
  if (!header.startsWith(`${ALGORITHM} `)) {
    return fail("incomplete-signature", "Unsupported or missing signing algorithm.");
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return fail("incomplete-signature", "Malformed Authorization header.");
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return fail(
      "incomplete-signature",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
    );
  }
  const scope = credential.split("/");
  const [accessKeyId, scopeDate, region, service, terminator] = scope;
  if (
    scope.length !== 5 ||
    accessKeyId === undefined ||
    accessKeyId.length === 0 ||
    scopeDate === undefined ||
    !/^\d{8}$/.test(scopeDate) ||
    region === undefined ||
    region.length === 0 ||
    service === undefined ||
    service.length === 0 ||
    terminator !== "aws4_request"
  ) {
    return fail(
      "incomplete-signature",
      "Credential is not of the form <key>/<date>/<region>/<service>/aws4_request.",
    );
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return fail("incomplete-signature", "Signature must be 64 lower-case hex characters.");
  }
  const headers = signedHeaders.split(";");
  const sorted = [...headers].sort();
  const wellFormed =
    headers.every((h, i) => h.length > 0 && h === h.toLowerCase() && h === sorted[i]) &&
    new Set(headers).size === headers.length;
  if (!wellFormed) {
    return fail("incomplete-signature", "SignedHeaders must be lower-case, sorted and unique.");
  }
  return {
    ok: true,
    value: { accessKeyId, scopeDate, region, service, signedHeaders: headers, signature },
  };
}

/** RFC 3986 percent-encoding as SigV4 requires (unreserved characters stay, everything else `%XX`). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalUri(path: string): string {
  // Non-S3 services: normalise the path, then URI-encode each (already wire-encoded) segment again.
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(uriEncode(segment));
  }
  const trailing = path.endsWith("/") && out.length > 0 ? "/" : "";
  return `/${out.join("/")}${trailing}`;
}

function canonicalQuery(query: string): string {
  if (query.length === 0) return "";
  const pairs = query
    .split("&")
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf("=");
      const key = decodeURIComponent((eq < 0 ? p : p.slice(0, eq)).replace(/\+/g, "%20"));
      const value = eq < 0 ? "" : decodeURIComponent(p.slice(eq + 1).replace(/\+/g, "%20"));
      return [uriEncode(key), uriEncode(value)] as const;
    });
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`. */
export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, "aws4_request");
}

/** Builds the canonical request exactly as the SigV4 spec defines it. */
export function canonicalRequest(
  request: WireRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
): string {
  const headers = headerMap(request.rawHeaders);
  const lines = signedHeaders.map((name) => {
    const values = (headers.get(name) ?? []).map((v) => v.trim().replace(/\s+/g, " "));
    return `${name}:${values.join(",")}\n`;
  });
  return [
    request.method.toUpperCase(),
    canonicalUri(request.path),
    canonicalQuery(request.query),
    lines.join(""),
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

/** Parses `x-amz-date` (`yyyymmddThhmmssZ`) to epoch milliseconds, or `undefined` if malformed. */
export function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value);
  if (m === null) return undefined;
  const d = m[1] as string;
  const iso = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${m[2]}:${m[3]}:${m[4]}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Verifies the request's signature against `secretAccessKey`. Checks, in order: `x-amz-date` present,
 * well-formed, signed and within {@link MAX_CLOCK_SKEW_MS}; scope date equal to it; `host` and every
 * `x-amz-*` header present in the request are signed; every signed header is present;
 * `x-amz-content-sha256` (if sent) equals the body hash; the signature matches (constant time).
 */
export function verifySignature(
  request: WireRequest,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  nowMs: number,
): SigV4Result<{ readonly requestTimeMs: number }> {
  const headers = headerMap(request.rawHeaders);
  const amzDate = headers.get("x-amz-date")?.[0];
  if (amzDate === undefined) {
    return fail(
      "incomplete-signature",
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  const requestTimeMs = parseAmzDate(amzDate);
  if (requestTimeMs === undefined) {
    return fail(
      "incomplete-signature",
      "X-Amz-Date must be in ISO 8601 basic format (yyyyMMddTHHmmssZ).",
    );
  }
  if (Math.abs(nowMs - requestTimeMs) > MAX_CLOCK_SKEW_MS) {
    return fail(
      "signature-expired",
      `Signature expired: ${amzDate} is outside the 5 minute window around the server time.`,
    );
  }
  if (amzDate.slice(0, 8) !== auth.scopeDate) {
    return fail("wrong-scope", "Credential should be scoped to a valid date matching X-Amz-Date.");
  }
  const signed = new Set(auth.signedHeaders);
  for (const name of headers.keys()) {
    if ((name === "host" || name.startsWith("x-amz-")) && !signed.has(name)) {
      return fail("incomplete-signature", `Header '${name}' must be signed.`);
    }
  }
  if (!signed.has("host")) return fail("incomplete-signature", "Header 'host' must be signed.");
  for (const name of auth.signedHeaders) {
    if (!headers.has(name))
      return fail("signature-mismatch", `Signed header '${name}' is missing.`);
  }
  const bodyHash = sha256Hex(request.body);
  const declared = headers.get("x-amz-content-sha256")?.[0];
  if (declared !== undefined && declared !== bodyHash) {
    return fail(
      "payload-hash-mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const scope = `${auth.scopeDate}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [
    ALGORITHM,
    amzDate,
    scope,
    sha256Hex(canonicalRequest(request, auth.signedHeaders, bodyHash)),
  ].join("\n");
  const key = deriveSigningKey(secretAccessKey, auth.scopeDate, auth.region, auth.service);
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  const presented = Buffer.from(auth.signature, "hex");
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return fail(
      "signature-mismatch",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  }
  return { ok: true, value: { requestTimeMs } };
}
