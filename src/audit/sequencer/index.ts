/**
 * The audit sequencer (opt-in): a durable per-chain queue and one leased, fenced sequencer per
 * chain, so many processes can append to one chain without racing (PostgreSQL and SQLite); for
 * DynamoDB, bounded retries of its conditional head write. May import the core, the storage contract and adapters' doors, the guard and the foundation.
 *
 * @packageDocumentation
 */
export * from "./dynamodb.js";
export * from "./postgres.js";
export * from "./sqlite.js";
