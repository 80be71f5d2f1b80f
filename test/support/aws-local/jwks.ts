/**
 * A throwaway OIDC identity provider for tests: an asymmetric signing key, its public JWKS, and a
 * minting function for web identity tokens carrying the AWS session-tag claim.
 */
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from "jose";

/** Options for {@link createTestIdentityProvider}. */
export interface TestIdentityProviderOptions {
  /** Default `"https://auth.keywarden.test/"`. */
  readonly issuer?: string;
  /** Default `"keywarden-vault"`. */
  readonly audience?: string;
  /** Signing algorithm; asymmetric only. Default `ES256`. */
  readonly alg?: "ES256" | "ES384" | "RS256" | "PS256" | "EdDSA";
}

/** Claims and lifetimes for one minted token. */
export interface MintOptions {
  readonly sub: string;
  /** Shorthand for `tags: { userId }`. */
  readonly userId?: string;
  /** Session tags, sent as `https://aws.amazon.com/tags` `principal_tags` (single-element arrays). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Seconds until `exp` (default 600). Negative values mint an already-expired token. */
  readonly expiresIn?: number;
  /** Override `aud` (default: the provider audience). */
  readonly audience?: string;
  /** Override `iss` (default: the provider issuer). */
  readonly issuer?: string;
  /** Extra claims, merged last. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** A test IdP; pass `issuer`, `audience` and `jwks` to `startAwsLocal`. */
export interface TestIdentityProvider {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: JSONWebKeySet;
  /** Signs a web identity token (JWT) with the provider's private key. */
  mintToken(options: MintOptions): Promise<string>;
}

/**
 * Creates a test identity provider with a fresh key pair.
 * @example
 * ```ts
 * const idp = await createTestIdentityProvider();
 * const token = await idp.mintToken({ sub: "user-a", userId: "user-a" });
 * ```
 * @throws Error from jose if the key pair cannot be generated (unsupported `alg`).
 */
export async function createTestIdentityProvider(
  options: TestIdentityProviderOptions = {},
): Promise<TestIdentityProvider> {
  const issuer = options.issuer ?? "https://auth.keywarden.test/";
  const audience = options.audience ?? "keywarden-vault";
  const alg = options.alg ?? "ES256";
  const { privateKey, publicKey } = await generateKeyPair(
    alg,
    alg === "EdDSA" ? { crv: "Ed25519" } : {},
  );
  const kid = `test-${alg.toLowerCase()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return {
    issuer,
    audience,
    jwks: { keys: [jwk] },
    async mintToken(mint: MintOptions): Promise<string> {
      const tags = {
        ...(mint.tags ?? {}),
        ...(mint.userId !== undefined ? { userId: mint.userId } : {}),
      };
      const claims: Record<string, unknown> = {};
      if (Object.keys(tags).length > 0) {
        claims["https://aws.amazon.com/tags"] = {
          principal_tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, [v]])),
          transitive_tag_keys: Object.keys(tags),
        };
      }
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = mint.expiresIn ?? 600;
      return new SignJWT({ ...claims, ...(mint.claims ?? {}) })
        .setProtectedHeader({ alg, kid, typ: "JWT" })
        .setIssuer(mint.issuer ?? issuer)
        .setAudience(mint.audience ?? audience)
        .setSubject(mint.sub)
        .setIssuedAt(expiresIn < 0 ? now + expiresIn - 60 : now)
        .setExpirationTime(now + expiresIn)
        .sign(privateKey);
    },
  };
}
