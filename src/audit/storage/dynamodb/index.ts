/**
 * The DynamoDB adapter (`keywarden/audit/dynamodb`): item layout and conditional writes on the chain
 * head, bound to the AWS SDK through a structural client. May import the storage contract and the
 * foundation.
 *
 * @packageDocumentation
 */
export * from "./layout.js";
export * from "./store.js";
