/**
 * keywarden: hold your users' exchange API keys like a careful custodian.
 *
 * The root entry holds only errors and shared types. Each capability has its own subpath:
 * `keywarden/vault`, `keywarden/permissions`, `keywarden/audit`, `keywarden/guard`,
 * `keywarden/trading`.
 *
 * @packageDocumentation
 */

export type { JsonValue } from "./canonical.js";
export { type SecretEncoding, takeSecretFromEnv } from "./env.js";
export * from "./errors.js";
export { REDACTED, Secret } from "./secret.js";
