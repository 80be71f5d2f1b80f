import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KmsLike } from "../../../src/vault/kms/aws.js";

type Ctx = Record<string, string>;
// Multi-Region replicas share key material and key id (mrk-…): bind to the id, not the region.
const aad = (keyArn: string, ctx: Ctx | undefined) =>
  Buffer.from(JSON.stringify([keyArn.split("key/")[1], Object.entries(ctx ?? {}).sort()]));

/**
 * A structural in-memory KMS for unit tests: receives the real client-kms command objects,
 * wraps with AES-256-GCM using the encryption context as associated data (so a context mismatch
 * fails like real KMS), and can inject errors by name.
 */
export function fakeKms(region: string, keyArn: string, master = randomBytes(32)) {
  const calls: { op: string; input: Record<string, unknown>; region: string }[] = [];
  const faults: { name: string; status: number; message?: string }[] = [];
  const handed: Uint8Array[] = [];
  const wrap = (pt: Uint8Array, ctx: Ctx | undefined) => {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", master, iv);
    c.setAAD(aad(keyArn, ctx));
    return new Uint8Array(Buffer.concat([iv, c.update(pt), c.final(), c.getAuthTag()]));
  };
  const unwrap = (blob: Uint8Array, ctx: Ctx | undefined) => {
    try {
      const b = Buffer.from(blob);
      const d = createDecipheriv("aes-256-gcm", master, b.subarray(0, 12));
      d.setAAD(aad(keyArn, ctx));
      d.setAuthTag(b.subarray(b.length - 16));
      return new Uint8Array(Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]));
    } catch {
      throw Object.assign(new Error("InvalidCiphertextException: null"), {
        name: "InvalidCiphertextException",
        $metadata: { httpStatusCode: 400 },
      });
    }
  };
  const client: KmsLike = {
    async send(command) {
      const op = command.constructor.name.replace(/Command$/, "");
      const input = command.input as Record<string, unknown>;
      calls.push({ op, input, region });
      const f = faults.shift();
      if (f) {
        throw Object.assign(new Error(f.message ?? f.name), {
          name: f.name,
          $metadata: { httpStatusCode: f.status },
        });
      }
      const out = (p: Uint8Array) => {
        handed.push(p);
        return p;
      };
      if (op === "GenerateDataKey") {
        const pt = new Uint8Array(randomBytes(32));
        return {
          KeyId: keyArn,
          CiphertextBlob: wrap(pt, input.EncryptionContext as Ctx),
          Plaintext: out(new Uint8Array(pt)),
        };
      }
      if (op === "Decrypt") {
        return {
          KeyId: keyArn,
          Plaintext: out(
            unwrap(input.CiphertextBlob as Uint8Array, input.EncryptionContext as Ctx),
          ),
        };
      }
      if (op === "ReEncrypt") {
        const pt = unwrap(input.CiphertextBlob as Uint8Array, input.SourceEncryptionContext as Ctx);
        return {
          KeyId: keyArn,
          CiphertextBlob: wrap(pt, input.DestinationEncryptionContext as Ctx),
        };
      }
      throw Object.assign(new Error("unsupported"), { name: "UnsupportedOperationException" });
    },
  };
  return { client, calls, faults, handed, master };
}
