/**
 * `keywarden/guard`: who is calling, and may they touch this row?
 *
 * @packageDocumentation
 */
export { currentIdentity, requireIdentity, runAs } from "./context.js";
export {
  assertIdentity,
  assertUserId,
  hostIdentity,
  type Identity,
  type IdentityKind,
  isIdentity,
  isIdentityLive,
  operatorIdentity,
} from "./identity.js";
export {
  createSessionVerifier,
  SESSION_ALGORITHMS,
  type SessionAlgorithm,
  type SessionKey,
  type SessionVerifier,
  type SessionVerifierOptions,
} from "./session.js";
