/**
 * The identity types, apart from the code that mints and checks identities (identity.ts), so the
 * guard runtime (runtime.ts) can hold identities without importing the module that uses it.
 *
 * @packageDocumentation
 */
import type { Secret } from "../secret.js";

/** How an identity was established. */
export type IdentityKind =
  /** A user's live session, verified from a JWT by {@link SessionVerifier}. */
  | "session"
  /** A trading grant the user created from a live session (see `keywarden/vault`). */
  | "grant"
  /** Asserted by the host application, which authenticated the user itself. */
  | "host"
  /** An operator acting on infrastructure (re-wrap, migrations, emergency revocation). */
  | "operator";

/**
 * An authenticated caller. Identities are created only by keywarden ({@link SessionVerifier},
 * {@link hostIdentity}, {@link operatorIdentity}, the vault's grants) and are frozen and branded:
 * an object literal with the same shape is not an identity ({@link isIdentity} is false), so a
 * handler cannot be tricked by a forged one.
 */
export interface Identity {
  readonly kind: IdentityKind;
  /** The user this identity acts for (for operators: the operator's id). */
  readonly userId: string;
  /** Session id (`sid` or `jti` claim), grant id, or a host-chosen id; for audit trails. */
  readonly id: string;
  /** Epoch milliseconds after which the identity is no longer valid, when it has an expiry. */
  readonly expiresAt: number | undefined;
  /**
   * The verified bearer token, for providers that must present it (AWS STS
   * AssumeRoleWithWebIdentity). Only on `session` identities verified from a JWT.
   */
  readonly token: Secret | undefined;
  /** For grants: the scope the user granted. */
  readonly scope:
    | Readonly<{ exchanges: readonly string[]; actions: readonly string[] }>
    | undefined;
}

/** Fields of a new identity; only keywarden modules call {@link mintIdentity}. */
export interface IdentityInit {
  kind: IdentityKind;
  userId: string;
  id: string;
  expiresAt?: number | undefined;
  token?: Secret | undefined;
  scope?: { exchanges: readonly string[]; actions: readonly string[] } | undefined;
}
