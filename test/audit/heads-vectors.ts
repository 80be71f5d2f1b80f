/** Loads the heads-receipt conformance vectors (test/vectors/heads/*.json, scripts/gen-heads-vectors.ts). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HeadsVector } from "../../scripts/gen-heads-vectors.js";

export type { HeadsVector };

export const HEADS_VECTOR_DIR = join(import.meta.dirname, "..", "vectors", "heads");

/** Every heads vector, by file name. */
export function loadHeadsVectors(): HeadsVector[] {
  return readdirSync(HEADS_VECTOR_DIR)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(HEADS_VECTOR_DIR, n), "utf8")) as HeadsVector);
}
