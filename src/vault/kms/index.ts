/**
 * Master-key providers: the `KmsProvider` contract, the local file-based KMS, the AWS KMS binding
 * (`keywarden/vault/aws-kms`) with its key-policy generator, KMS error mapping and the per-session
 * data-key cache. May import the vault's format room, the guard's identity type and the foundation;
 * never stores or the vault's core.
 *
 * The AWS KMS binding (aws.ts) is a door of its own, the `keywarden/vault/aws-kms` subpath, and is
 * not re-exported here, so nothing that imports this room loads the AWS SDK.
 *
 * @packageDocumentation
 */

export * from "./aws-policy.js";
export * from "./data-key-cache.js";
export * from "./errors.js";
export * from "./local.js";
export * from "./observed.js";
export * from "./provider.js";
