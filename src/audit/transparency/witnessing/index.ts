/**
 * The C2SP tlog-witness protocol: request format and the witness's per-request decision
 * (protocol.ts, portable), the submitting client (client.ts, portable), a durable file state and
 * the HTTP server behind `keywarden witness serve` (Node). A sub-room of transparency: may import
 * its parent room's note, checkpoint, merkle and witness files directly, the primitives room
 * through its door, and the foundation.
 *
 * @packageDocumentation
 */
export * from "./client.js";
export * from "./file-state.js";
export * from "./protocol.js";
export * from "./server.js";
