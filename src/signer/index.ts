/**
 * `keywarden/signer`: the signer service. A small process holds the vault, the KMS access, the
 * audit writer and ccxt; trading bots get a capability for one user's trading grant and call it
 * over a Unix socket (or loopback mutual TLS) with `keywarden/trading/remote`. Fastify is an
 * optional peer, loaded only when a server is created.
 *
 * @packageDocumentation
 */
export {
  type CapabilityRecord,
  type CapabilityStore,
  createMemoryCapabilityStore,
  openFileCapabilityStore,
} from "./capabilities.js";
export {
  certificateFingerprint,
  createSignerServer,
  REDACT_PATHS,
  type SignerListen,
  type SignerServer,
  type SignerServerOptions,
} from "./http.js";
export type { RateLimit } from "./limits.js";
export type { CallerInfo, Enrolment, SignerCore, SignerVault } from "./service.js";
