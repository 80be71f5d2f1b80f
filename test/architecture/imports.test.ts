import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { entries } from "../../tsup.config.js";
import { checkArchitecture, ROOMS, type SourceFile } from "./import-graph.js";

const root = new URL("../../", import.meta.url).pathname;

function sourceTree(): SourceFile[] {
  const listed = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "src", "web"],
    { cwd: root, encoding: "utf8" },
  );
  return listed
    .split("\n")
    .filter((p) => p.endsWith(".ts"))
    .flatMap((path) => {
      try {
        return [{ path, text: readFileSync(root + path, "utf8") }];
      } catch {
        return []; // deleted in the work tree, not yet in the index
      }
    });
}

const entryFiles = new Set<string>(Object.values(entries));

/** The tree with one extra import line added to one file. */
function planted(tree: SourceFile[], path: string, line: string): SourceFile[] {
  return tree.map((f) => (f.path === path ? { path, text: `${line}\n${f.text}` } : f));
}

describe("architecture: import direction (docs/architecture.md)", () => {
  const tree = sourceTree();

  it("src/ and web/ follow every rule: module and room direction, doors, no cycles, browser-safe code", () => {
    expect(tree.length).toBeGreaterThan(200);
    expect(checkArchitecture(tree, entryFiles)).toEqual([]);
  });

  it("every room exists and has an index.ts door with a header comment", () => {
    for (const room of Object.keys(ROOMS)) {
      const door = tree.find((f) => f.path === `${room}/index.ts`);
      expect(door, room).toBeDefined();
      expect(door?.text.trimStart().startsWith("/**"), room).toBe(true);
    }
  });

  it("catches a planted wrong-way import between rooms (core -> export)", () => {
    const bad = planted(tree, "src/audit/core/entry.ts", 'import "../export/index.js";');
    expect(checkArchitecture(bad, entryFiles)).toContainEqual(
      expect.stringMatching(/room src\/audit\/core \(rank 3\) may not import src\/audit\/export/),
    );
  });

  it("catches a planted import between rooms of the same rank (core -> transparency)", () => {
    const bad = planted(tree, "src/audit/core/verify.ts", 'import "../transparency/index.js";');
    expect(checkArchitecture(bad, entryFiles).join("\n")).toMatch(
      /may not import src\/audit\/transparency/,
    );
  });

  it("catches a planted wrong-way import between modules (vault -> trading)", () => {
    const bad = planted(
      tree,
      "src/vault/core/vault.ts",
      'import type { X } from "../../trading/index.js";',
    );
    expect(checkArchitecture(bad, entryFiles)).toContainEqual(
      expect.stringMatching(/module vault may not import trading/),
    );
  });

  it("catches a planted import that enters a room behind its door", () => {
    const bad = planted(
      tree,
      "src/trading/client.ts",
      'import { AuditLog } from "../audit/core/log.js";',
    );
    expect(checkArchitecture(bad, entryFiles)).toContainEqual(
      expect.stringMatching(/enters src\/audit\/core through log\.ts, not through its door/),
    );
  });

  it("catches a planted cycle, type-only imports included", () => {
    const bad = planted(tree, "src/json-value.ts", 'import type { X } from "./canonical.js";');
    expect(checkArchitecture(bad, entryFiles)).toContainEqual(
      expect.stringMatching(/^import cycle: .*src\/json-value\.ts/),
    );
  });

  it("catches browser-safe code that reaches a Node built-in", () => {
    const bad = planted(tree, "src/audit/primitives/hex.ts", 'import { hash } from "node:crypto";');
    expect(checkArchitecture(bad, entryFiles)).toContainEqual(
      expect.stringMatching(
        /browser-safe code reaches node:crypto: .*src\/audit\/primitives\/hex\.ts/,
      ),
    );
  });

  it("catches a folder no rule knows about", () => {
    const bad = [...tree, { path: "src/newthing/index.ts", text: "export {};" }];
    expect(checkArchitecture(bad, entryFiles)).toContainEqual(
      expect.stringMatching(/module "newthing" is not in the architecture table/),
    );
  });
});
