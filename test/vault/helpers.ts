import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import type { Identity } from "../../src/guard/identity.js";
import { createSessionVerifier } from "../../src/guard/session.js";
import { Secret } from "../../src/secret.js";
import type { VaultAuditSink } from "../../src/vault/core/support.js";
import { LocalKms } from "../../src/vault/kms/local.js";
import type { KmsContext, KmsProvider } from "../../src/vault/kms/provider.js";

export const ISSUER = "https://auth.test/";
export const AUDIENCE = "keywarden-tests";

/** A local IdP: an ES256 key pair, its JWKS, and a session factory. */
export async function makeIdp() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const verifier = createSessionVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["ES256"],
    key: publicKey,
  });
  const token = async (userId: string, ttlSeconds = 3600) =>
    new SignJWT({ "https://aws.amazon.com/tags": { principal_tags: { userId: [userId] } } })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(userId)
      .setJti(`sid-${randomBytes(6).toString("hex")}`)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(privateKey);
  const session = async (userId: string, ttlSeconds = 3600): Promise<Identity> =>
    verifier.verify(await token(userId, ttlSeconds));
  return { jwks: { keys: [jwk] }, token, session, privateKey };
}

export function localKms(): LocalKms {
  return new LocalKms(Secret.fromBytes(new Uint8Array(randomBytes(32))));
}

export function canary(): string {
  return `CANARY-${randomBytes(12).toString("hex")}`;
}

/** An audit sink that records events in memory. */
export function recordingAudit() {
  const events: {
    chain: string;
    action: string;
    payload: Record<string, unknown>;
    actor: { kind: string; id: string; userId: string };
  }[] = [];
  const sink: VaultAuditSink = {
    async append(chain, action, payload, actor) {
      events.push({
        chain,
        action,
        payload: { ...payload },
        actor: { kind: actor.kind, id: actor.id, userId: actor.userId },
      });
    },
  };
  return { sink, events };
}

/** The value, or a test failure when it is missing. */
export function must<T>(value: T | undefined | null): T {
  if (value === undefined || value === null) throw new Error("expected a value");
  return value;
}

/** Wraps a KMS provider so that every call is reported to `onCall` (operation and context). */
export function countingKms<K extends KmsProvider>(
  inner: K,
  onCall: (op: "generateDataKey" | "decrypt" | "reEncrypt", context: KmsContext) => void,
): KmsProvider {
  return {
    name: inner.name,
    generateDataKey: (ctx, auth) => {
      onCall("generateDataKey", ctx);
      return inner.generateDataKey(ctx, auth);
    },
    decrypt: (wrapped, ctx, auth) => {
      onCall("decrypt", ctx);
      return inner.decrypt(wrapped, ctx, auth);
    },
    reEncrypt: (wrapped, from, to, auth) => {
      onCall("reEncrypt", from);
      return inner.reEncrypt(wrapped, from, to, auth);
    },
  };
}
