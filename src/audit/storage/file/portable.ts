/**
 * The browser-safe part of this room (no Node built-in or heavy dependency is reachable from it),
 * for the offline verifier page and `keywarden/audit/verify`. See index.ts for what the room owns.
 *
 * @packageDocumentation
 */
export * from "./scan.js";
