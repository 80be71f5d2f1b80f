/**
 * Export and import of a chain: JSON Lines and CSV encodings, the (signed) export manifest, the line
 * reader, and `readExport`/`verifyExport`, which re-verify an export with the core's verifier. May
 * import the core, transparency (notes and checkpoints for manifests), storage, primitives and the
 * foundation; never access.
 *
 * @packageDocumentation
 */
export * from "./csv.js";
export * from "./export.js";
export * from "./jsonl.js";
export * from "./line-reader.js";
export * from "./manifest.js";
export * from "./reader.js";
