/**
 * The browser-safe part of the witnessing sub-room (see index.ts): protocol and client.
 *
 * @packageDocumentation
 */
export * from "./client.js";
export * from "./protocol.js";
