/** Loads the audit-format conformance vectors (test/vectors/audit/*.json) for the tests. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One vector file (see docs/audit-format.md, "Conformance vectors"). */
export interface AuditVector {
  readonly id: string;
  readonly comment: string;
  readonly section: string;
  readonly kind: "export";
  readonly format: "jsonl" | "csv";
  readonly input: { readonly text: string } | { readonly base64: string };
  readonly trusted: {
    readonly expected?: { readonly size: number; readonly headHash: string | null };
    readonly manifestKeys?: readonly string[];
    readonly allowUnsignedManifest?: boolean;
  };
  readonly result:
    | {
        readonly valid: true;
        readonly chainId: string;
        readonly size: number;
        readonly headHash: string | null;
        readonly redacted: number;
      }
    | {
        readonly valid: false;
        readonly reason: string;
        readonly seq: number;
        readonly line: number | null;
      };
}

export const VECTOR_DIR = join(import.meta.dirname, "..", "vectors", "audit");

export function loadAuditVectors(): AuditVector[] {
  return readdirSync(VECTOR_DIR)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(VECTOR_DIR, n), "utf8")) as AuditVector);
}

/** The vector's input bytes. */
export function inputBytes(v: AuditVector): Uint8Array {
  return "text" in v.input
    ? new TextEncoder().encode(v.input.text)
    : Buffer.from(v.input.base64, "base64");
}
