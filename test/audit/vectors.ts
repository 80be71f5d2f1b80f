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

/** A transparency vector: a consistency proof, a signed checkpoint or a receipt (§10, §11, §13). */
export type TransparencyVector =
  | {
      readonly id: string;
      readonly comment: string;
      readonly section: string;
      readonly kind: "consistency";
      readonly input: {
        readonly size1: number;
        readonly size2: number;
        readonly root1: string;
        readonly root2: string;
        readonly proof: readonly string[];
      };
      readonly result: { readonly valid: boolean };
    }
  | {
      readonly id: string;
      readonly comment: string;
      readonly section: string;
      readonly kind: "checkpoint" | "receipt";
      readonly input: { readonly text: string };
      readonly trusted: {
        readonly logKeys: readonly string[];
        readonly origin?: string;
        readonly leafHash?: string;
      };
      readonly result:
        | {
            readonly valid: true;
            readonly origin: string;
            readonly size: number;
            readonly root: string;
            readonly index?: number;
          }
        | { readonly valid: false; readonly error: string };
    };

function loadAll(): Array<AuditVector | TransparencyVector> {
  return readdirSync(VECTOR_DIR)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map(
      (n) =>
        JSON.parse(readFileSync(join(VECTOR_DIR, n), "utf8")) as AuditVector | TransparencyVector,
    );
}

/** Every export vector. */
export function loadAuditVectors(): AuditVector[] {
  return loadAll().filter((v): v is AuditVector => v.kind === "export");
}

/** Every consistency, checkpoint and receipt vector. */
export function loadTransparencyVectors(): TransparencyVector[] {
  return loadAll().filter((v): v is TransparencyVector => v.kind !== "export");
}

/** The vector's input bytes. */
export function inputBytes(v: AuditVector): Uint8Array {
  return "text" in v.input
    ? new TextEncoder().encode(v.input.text)
    : Buffer.from(v.input.base64, "base64");
}
