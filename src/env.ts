/**
 * Reading secrets (master keys, signing keys) from the environment: read once, then deleted from
 * `process.env` so child processes and diagnostic reports do not inherit them.
 *
 * @packageDocumentation
 */
import { KeywardenError } from "./errors.js";
import { Secret } from "./secret.js";

/** How the environment variable's text encodes the secret bytes. */
export type SecretEncoding = "base64" | "base64url" | "hex" | "utf8";

/**
 * Reads the secret in environment variable `name`, deletes the variable from `process.env`, and
 * returns it as a {@link Secret}. A second read of the same name finds nothing: read it once at
 * start-up and hand the secret to whatever needs it.
 *
 * @example
 * ```ts
 * const master = takeSecretFromEnv("KEYWARDEN_MASTER_KEY", "base64");
 * ```
 * @throws {KeywardenError} `ERR_ENV_SECRET_MISSING` when the variable is unset or empty (the message
 * names the variable, never its value); `ERR_INVALID_ARGUMENT` when it does not decode.
 */
export function takeSecretFromEnv(name: string, encoding: SecretEncoding = "utf8"): Secret {
  const text = process.env[name];
  delete process.env[name];
  if (text === undefined || text === "") {
    throw new KeywardenError(
      "ERR_ENV_SECRET_MISSING",
      `environment variable ${name} is not set (or was already read and removed)`,
      { details: { variable: name } },
    );
  }
  if (encoding === "utf8") return Secret.fromString(text);
  const valid =
    encoding === "hex"
      ? /^(?:[0-9a-fA-F]{2})+$/.test(text)
      : encoding === "base64"
        ? /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0
        : /^[A-Za-z0-9_-]+$/.test(text);
  if (!valid) {
    throw new KeywardenError(
      "ERR_INVALID_ARGUMENT",
      `environment variable ${name} is not valid ${encoding}`,
      {
        details: { variable: name },
      },
    );
  }
  const buf = Buffer.from(text, encoding);
  const bytes = new Uint8Array(buf); // own buffer, not the shared pool
  buf.fill(0);
  return Secret.fromBytes(bytes);
}
