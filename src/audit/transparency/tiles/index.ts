/**
 * C2SP tlog-tiles for keywarden's logs: tile math and paths, entry bundles, the tile reader that
 * builds RFC 9162 proofs from static tiles (portable), the storage-agnostic writer and the directory publisher (Node; the S3 binding is
 * s3.ts, reached only through its own subpath). A
 * sub-room of transparency: may import merkle.ts, note.ts and checkpoint.ts of its parent room
 * directly, the primitives room through its door, and the foundation; nothing else.
 *
 * @packageDocumentation
 */
export * from "./bundle.js";
export * from "./directory.js";
export * from "./paths.js";
export * from "./reader.js";
export * from "./storage.js";
export * from "./writer.js";
