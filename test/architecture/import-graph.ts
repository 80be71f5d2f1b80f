/**
 * The import-direction rules of docs/architecture.md, as a checker over a map of source files.
 * Pure: the test feeds it the real tree, and the same tree with planted wrong-way imports to prove
 * it catches them. Every import counts, type-only ones included, except where a rule says so.
 */
import { dirname, join, normalize } from "node:path/posix";

/** Modules (top-level folders of src/, plus `foundation` for the files directly in src/) and what each may import. */
export const MODULE_DEPS: Readonly<Record<string, readonly string[]>> = {
  foundation: [],
  observability: ["foundation"],
  guard: ["foundation", "observability"],
  permissions: ["foundation", "observability", "guard"],
  audit: ["foundation", "observability", "guard"],
  vault: ["foundation", "observability", "guard"],
  trading: ["foundation", "observability", "guard", "audit", "vault", "permissions"],
  signer: ["foundation", "observability", "guard", "audit", "vault", "permissions", "trading"],
  embedded: ["foundation", "observability", "guard", "audit", "vault", "permissions", "trading"],
  cli: [
    "foundation",
    "observability",
    "guard",
    "audit",
    "vault",
    "permissions",
    "trading",
    "signer",
    "embedded",
  ],
  // The offline verifier page: the library's browser-safe verification code only.
  web: ["foundation", "audit"],
};

/**
 * The rooms of the modules that have them, with their rank: a room may import rooms of a lower
 * rank only (never one of the same rank, never a higher one). A sub-room (a folder inside a room)
 * is a room of its own.
 */
export const ROOMS: Readonly<Record<string, number>> = {
  "src/audit/primitives": 0,
  "src/audit/storage": 1,
  "src/audit/storage/file": 2,
  "src/audit/storage/sqlite": 2,
  "src/audit/storage/postgres": 2,
  "src/audit/storage/dynamodb": 2,
  "src/audit/core": 3,
  "src/audit/transparency": 3,
  "src/audit/export": 4,
  "src/audit/sequencer": 4,
  "src/audit/access": 5,
  "src/audit/testing": 6,
  "src/vault/format": 0,
  "src/vault/kms": 1,
  "src/vault/stores": 1,
  "src/vault/stores/postgres": 2,
  "src/vault/core": 3,
  "src/vault/testing": 4,
};

/** Doors: the files through which a room is entered from outside it. */
const DOOR_NAMES = new Set(["index.ts", "portable.ts"]);

/** Bare specifiers that must never be reached from browser-safe code. */
const NODE_ONLY = /^(node:|pg$|better-sqlite3$|@aws-sdk\/|ccxt$|fastify|pino)/;

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

interface Edge {
  readonly from: string;
  readonly spec: string;
  /** Resolved repository path for relative specifiers. */
  readonly to: string | undefined;
  readonly typeOnly: boolean;
}

const IMPORT_RE =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^;"']*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every import and re-export of a file, static and dynamic. */
export function importsOf(file: SourceFile): Edge[] {
  const out: Edge[] = [];
  const text = file.text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = (m[3] ?? m[4]) as string;
    const typeOnly = m[2] !== undefined;
    const to = spec.startsWith(".")
      ? normalize(join(dirname(file.path), spec)).replace(/\.js$/, ".ts")
      : undefined;
    out.push({ from: file.path, spec, to, typeOnly });
  }
  return out;
}

/** The module a file belongs to. */
export function moduleOf(path: string): string | undefined {
  if (path.startsWith("web/")) return "web";
  const m = /^src\/([^/]+)(\/)?/.exec(path);
  if (!m) return undefined;
  return m[2] ? m[1] : "foundation";
}

/** The innermost room holding a file, if its module has rooms. */
export function roomOf(path: string): string | undefined {
  let best: string | undefined;
  for (const room of Object.keys(ROOMS)) {
    if (path.startsWith(`${room}/`) && (!best || room.length > best.length)) best = room;
  }
  return best;
}

/**
 * Checks every rule and returns one line per violation (empty when the tree is clean).
 * `entryFiles` are the package's subpath entries (tsup.config.ts): a binding that is its own
 * subpath counts as a door of its room.
 */
export function checkArchitecture(
  files: readonly SourceFile[],
  entryFiles: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const byPath = new Map(files.map((f) => [f.path, f]));
  const edges = new Map(files.map((f) => [f.path, importsOf(f)]));

  for (const [from, list] of edges) {
    const fromModule = moduleOf(from);
    if (fromModule === undefined || !(fromModule in MODULE_DEPS)) {
      problems.push(`${from}: module "${fromModule}" is not in the architecture table`);
      continue;
    }
    for (const e of list) {
      if (!e.to) continue;
      if (!byPath.has(e.to)) {
        problems.push(`${from}: imports ${e.spec}, which is not a source file`);
        continue;
      }
      const toModule = moduleOf(e.to);
      if (toModule === undefined) continue;
      if (toModule !== fromModule && !MODULE_DEPS[fromModule]?.includes(toModule)) {
        problems.push(`${from}: module ${fromModule} may not import ${toModule} (${e.spec})`);
      }
      const fromRoom = roomOf(from);
      const toRoom = roomOf(e.to);
      if (toRoom === undefined || toRoom === fromRoom) continue;
      const base = e.to.slice(toRoom.length + 1);
      if (!DOOR_NAMES.has(base) && !entryFiles.has(e.to)) {
        problems.push(
          `${from}: enters ${toRoom} through ${base}, not through its door (${e.spec})`,
        );
      }
      if (fromRoom !== undefined && moduleOf(fromRoom) === toModule) {
        const a = ROOMS[fromRoom] as number;
        const b = ROOMS[toRoom] as number;
        if (b >= a) {
          problems.push(
            `${from}: room ${fromRoom} (rank ${a}) may not import ${toRoom} (rank ${b}) (${e.spec})`,
          );
        }
      }
    }
  }

  // No cycle among files, type-only imports included.
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const e of edges.get(f) ?? []) {
      if (!e.to || !byPath.has(e.to)) continue;
      const s = state.get(e.to);
      if (s === 1) {
        problems.push(`import cycle: ${[...stack.slice(stack.indexOf(e.to)), e.to].join(" -> ")}`);
      } else if (s === undefined) visit(e.to);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of [...edges.keys()].sort()) if (!state.has(f)) visit(f);

  // Browser-safe code (portable doors, the audit/verify subpath, the verifier page) never reaches
  // a Node built-in or a heavy peer through a value import (type-only imports are erased).
  const roots = files
    .map((f) => f.path)
    .filter(
      (p) =>
        p.endsWith("/portable.ts") ||
        p.startsWith("web/") ||
        p === "src/audit/transparency/verify.ts",
    );
  const seen = new Set<string>();
  const reach = (f: string, via: string[]): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const e of edges.get(f) ?? []) {
      if (e.typeOnly) continue;
      if (!e.to) {
        if (NODE_ONLY.test(e.spec)) {
          problems.push(`browser-safe code reaches ${e.spec}: ${[...via, f].join(" -> ")}`);
        }
      } else if (byPath.has(e.to)) reach(e.to, [...via, f]);
    }
  };
  for (const r of roots) reach(r, []);
  return problems;
}
