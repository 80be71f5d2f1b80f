/**
 * SHA-256 on Node: `node:crypto`'s one-shot `hash()` (Node >= 20.12), the fastest correct
 * implementation available there. The browser build uses {@link ./sha256-portable.ts} instead;
 * a test proves both return identical digests.
 *
 * @packageDocumentation
 */
import { hash } from "node:crypto";
import { latin1Bytes } from "./bytes.js";

/**
 * A SHA-256 function over bytes. Verify code takes one as a parameter so it can run anywhere.
 * An implementation may add `textHex`, the lowercase hex SHA-256 of a string's UTF-8 bytes, and
 * `bytesHex`, the lowercase hex SHA-256 of bytes, as faster paths that skip the digest buffer and
 * the hex encoding in JavaScript (they must equal `hex(sha256(utf8(text)))` and
 * `hex(sha256(data))`, which is tested).
 */
export type Sha256 = ((data: Uint8Array) => Uint8Array) & {
  readonly textHex?: ((text: string) => string) | undefined;
  readonly bytesHex?: ((data: Uint8Array) => string) | undefined;
};

/**
 * SHA-256 of `data` via node:crypto.
 *
 * @example
 * ```ts
 * sha256Node(new Uint8Array()); // e3b0c442…b855
 * ```
 * @throws never for a Uint8Array input.
 */
export const sha256Node: Sha256 = Object.assign(
  (data: Uint8Array) => latin1Bytes(hash("sha256", data, "binary")),
  {
    textHex: (text: string) => hash("sha256", text, "hex"),
    bytesHex: (data: Uint8Array) => hash("sha256", data, "hex"),
  },
);
