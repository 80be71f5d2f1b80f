/**
 * The browser-safe part of the tiles sub-room (see index.ts): paths, bundles and the reader.
 *
 * @packageDocumentation
 */
export * from "./bundle.js";
export * from "./paths.js";
export * from "./reader.js";
