/**
 * The vault's on-disk formats: the versioned envelope (sealed secret under a data key, with its
 * associated data) and the sealed manifest that detects rollback. May import only the package
 * foundation.
 *
 * @packageDocumentation
 */
export * from "./envelope.js";
export * from "./manifest.js";
