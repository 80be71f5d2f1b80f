/**
 * SHA-256 where node:crypto is absent (browsers, workers): @noble/hashes, audited and
 * dependency-free. Same digests as {@link sha256Node} (tested).
 *
 * @packageDocumentation
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Sha256 } from "./sha256.js";

/**
 * SHA-256 of `data` via @noble/hashes.
 *
 * @example
 * ```ts
 * sha256Portable(new TextEncoder().encode("abc"));
 * ```
 * @throws never for a Uint8Array input.
 */
export const sha256Portable: Sha256 = (data) => sha256(data);
