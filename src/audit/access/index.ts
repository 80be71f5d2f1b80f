/**
 * Who may read which chain: the guarded read, export and verify entry points and the handler set the
 * isolation kit checks. The top of the audit module: may import every other audit room, the guard
 * and the foundation.
 *
 * @packageDocumentation
 */
export * from "./access.js";
export * from "./handlers.js";
