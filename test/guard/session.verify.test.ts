import { createSecretKey, randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import {
  createSessionVerifier,
  currentIdentity,
  isIdentityLive,
  runAs,
} from "../../src/guard/index.js";

const ISS = "https://auth.example.test/";
const AUD = "trading-api";
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let es: KeyPair;
let ed: KeyPair;
let other: KeyPair;

beforeAll(async () => {
  es = await generateKeyPair("ES256");
  ed = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  other = await generateKeyPair("ES256");
});
afterEach(() => {
  vi.useRealTimers();
});

const now = () => Math.floor(Date.now() / 1000);

function token(
  key: KeyPair["privateKey"] | Uint8Array,
  alg: string,
  claims: Record<string, unknown> = {},
  opts: { iss?: string; aud?: string; iat?: number; exp?: number; sub?: string | null } = {},
) {
  const jwt = new SignJWT({ sid: "s-1", ...claims })
    .setProtectedHeader({ alg })
    .setIssuer(opts.iss ?? ISS)
    .setAudience(opts.aud ?? AUD)
    .setIssuedAt(opts.iat ?? now())
    .setExpirationTime(opts.exp ?? now() + 600);
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? "user-a");
  return jwt.sign(key);
}

const verifierFor = (
  key: KeyPair["publicKey"],
  alg: "ES256" | "EdDSA" = "ES256",
  maxAge?: number,
) =>
  createSessionVerifier({
    issuer: ISS,
    audience: AUD,
    algorithms: [alg],
    key,
    ...(maxAge === undefined ? {} : { maxAgeSeconds: maxAge }),
  });

async function expectInvalid(p: Promise<unknown>, canary?: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isKeywardenError(err, "ERR_GUARD_SESSION_INVALID")).toBe(true);
  expect((err as Error).message).toBe("session token is not valid");
  if (canary) {
    const e = err as Error;
    for (const text of [e.message, String(e.stack), JSON.stringify(e), inspect(e, { depth: 9 })]) {
      expect(text).not.toContain(canary);
    }
  }
}

describe("session verification", () => {
  it("accepts an ES256 session and yields a branded session identity", async () => {
    const who = await verifierFor(es.publicKey).verify(await token(es.privateKey, "ES256"));
    expect(who.kind).toBe("session");
    expect(who.userId).toBe("user-a");
    expect(who.id).toBe("s-1");
    expect(who.token?.useText((t) => t.split(".").length)).toBe(3);
    expect(Object.isFrozen(who)).toBe(true);
  });

  it("without sid or jti, two users' sessions issued in the same second get different ids", async () => {
    const iat = now();
    const verifier = verifierFor(es.publicKey);
    const a = await verifier.verify(
      await token(es.privateKey, "ES256", { sid: undefined }, { iat, sub: "user-a" }),
    );
    const b = await verifier.verify(
      await token(es.privateKey, "ES256", { sid: undefined }, { iat, sub: "user-b" }),
    );
    expect(a.id).toMatch(/^tok:[0-9a-f]{32}$/);
    expect(b.id).toMatch(/^tok:[0-9a-f]{32}$/);
    expect(a.id).not.toBe(b.id);
  });

  it("never serializes the session token held by the identity", async () => {
    const t = await token(es.privateKey, "ES256");
    const who = await verifierFor(es.publicKey).verify(t);
    const signature = t.split(".")[2] as string;
    for (const text of [JSON.stringify(who), inspect(who, { depth: 9 }), String(who.token)]) {
      expect(text).not.toContain(signature);
    }
  });

  it("accepts an EdDSA session", async () => {
    const who = await verifierFor(ed.publicKey, "EdDSA").verify(
      await token(ed.privateKey, "EdDSA", {}, { sub: "user-b" }),
    );
    expect(who.userId).toBe("user-b");
  });

  it("accepts a public JWK", async () => {
    const jwk = await exportJWK(es.publicKey);
    const v = createSessionVerifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ["ES256"],
      key: jwk,
    });
    expect((await v.verify(await token(es.privateKey, "ES256"))).userId).toBe("user-a");
  });

  it("refuses an HMAC key at construction", () => {
    for (const key of [
      new Uint8Array(32),
      createSecretKey(randomBytes(32)),
      { kty: "oct", k: "c2VjcmV0" },
    ]) {
      expect(() =>
        createSessionVerifier({
          issuer: ISS,
          audience: AUD,
          algorithms: ["ES256"],
          key: key as never,
        }),
      ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    }
  });

  it("refuses HS256 in the algorithm list at construction", () => {
    expect(() =>
      createSessionVerifier({
        issuer: ISS,
        audience: AUD,
        algorithms: ["HS256" as never],
        key: es.publicKey,
      }),
    ).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
  });

  it('refuses an alg "none" token', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const unsigned = `${b64({ alg: "none" })}.${b64({ iss: ISS, aud: AUD, sub: "user-a", iat: now(), exp: now() + 600 })}.`;
    await expectInvalid(verifierFor(es.publicKey).verify(unsigned));
  });

  it("refuses an HS256-signed token (algorithm confusion)", async () => {
    const secret = new TextEncoder().encode("CANARY-hs-secret-0123456789abcdef");
    await expectInvalid(verifierFor(es.publicKey).verify(await token(secret, "HS256")));
  });

  it("refuses a token signed by another key, and never echoes the token", async () => {
    const t = await token(other.privateKey, "ES256", { note: "CANARY-claim-x91" });
    await expectInvalid(verifierFor(es.publicKey).verify(t), "CANARY-claim-x91");
    await expectInvalid(verifierFor(es.publicKey).verify(t), t);
  });

  it("refuses a wrong issuer or audience", async () => {
    const v = verifierFor(es.publicKey);
    await expectInvalid(
      v.verify(await token(es.privateKey, "ES256", {}, { iss: "https://evil/" })),
    );
    await expectInvalid(v.verify(await token(es.privateKey, "ES256", {}, { aud: "other-api" })));
  });

  it("refuses an expired token", async () => {
    const t = await token(es.privateKey, "ES256", {}, { iat: now() - 7200, exp: now() - 3600 });
    await expectInvalid(verifierFor(es.publicKey).verify(t));
  });

  it("refuses a token older than maxAge even before exp", async () => {
    const t = await token(es.privateKey, "ES256", {}, { iat: now() - 3700, exp: now() + 3600 });
    await expectInvalid(verifierFor(es.publicKey, "ES256", 3600).verify(t));
  });

  it("refuses a token without sub, or with a malformed sub", async () => {
    const v = verifierFor(es.publicKey);
    await expectInvalid(v.verify(await token(es.privateKey, "ES256", {}, { sub: null })));
    await expectInvalid(v.verify(await token(es.privateKey, "ES256", {}, { sub: "a b'; drop" })));
  });

  it("refuses empty, non-string and oversized tokens", async () => {
    const v = verifierFor(es.publicKey);
    await expectInvalid(v.verify(""));
    await expectInvalid(v.verify(42 as never));
    await expectInvalid(v.verify("a".repeat(20_000)));
  });

  it("ends the identity at exp or iat+maxAge, whichever is first", async () => {
    const iat = now();
    const v = verifierFor(es.publicKey, "ES256", 600);
    const who = await v.verify(await token(es.privateKey, "ES256", {}, { iat, exp: iat + 3600 }));
    expect(who.expiresAt).toBe((iat + 600) * 1000);
    expect(isIdentityLive(who, (iat + 599) * 1000)).toBe(true);
    expect(isIdentityLive(who, (iat + 600) * 1000)).toBe(false);
  });

  it("an expired identity is no longer the current identity", async () => {
    const v = verifierFor(es.publicKey);
    const who = await v.verify(await token(es.privateKey, "ES256", {}, { exp: now() + 60 }));
    vi.useFakeTimers({ toFake: ["Date"] });
    await runAs(who, async () => {
      expect(currentIdentity()).toBe(who);
      vi.setSystemTime(Date.now() + 120_000);
      expect(currentIdentity()).toBeUndefined();
    });
  });
});
