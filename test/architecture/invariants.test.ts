/**
 * STYLE.md, "Invariants in words": every `/* Precondition: … *\/` or `/* Postcondition: … *\/`
 * comment in src/ has a test titled with the same sentence (see ./invariants.ts for the exact
 * matching rule). Test titles are read from test/ and from the conformance suites that src/
 * ships under `testing/` folders (they run from test/). A planted tree proves the walker catches
 * a missing test, a multi-line comment, and a title that only looks alike.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  extractInvariants,
  extractTestTitles,
  type TextFile,
  untestedInvariants,
} from "./invariants.js";

const root = new URL("../../", import.meta.url).pathname;

function tree(dir: string): TextFile[] {
  const listed = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", dir],
    {
      cwd: root,
      encoding: "utf8",
    },
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

describe("architecture: every invariant comment has a test of the same title (STYLE.md)", () => {
  const src = tree("src");
  const invariants = extractInvariants(src);
  const titles = extractTestTitles([
    ...tree("test"),
    ...src.filter((f) => f.path.includes("/testing/")),
  ]);

  it("finds the invariants of src/ and the test titles of test/", () => {
    expect(invariants.length).toBeGreaterThan(150);
    expect(titles.length).toBeGreaterThan(900);
  });

  it("every Precondition/Postcondition sentence in src/ is the title of a test", () => {
    const missing = untestedInvariants(invariants, titles).map(
      (inv) => `${inv.file}:${inv.line}: ${inv.kind}: ${inv.sentence}`,
    );
    expect(missing).toEqual([]);
  });

  it("catches planted violations: a multi-line comment with no test, and a look-alike title", () => {
    const plantedSrc: TextFile = {
      path: "src/planted.ts",
      text: [
        'const s = "/* Precondition: a string is not a comment. */";',
        "// Precondition: a line comment is not an invariant comment.",
        "/* Precondition: a planted key is refused",
        " * before anything is sent. */",
        "/**",
        " * Postcondition: a planted entry is durable. */",
        "/* Precondition: a planted invariant with a test. */",
        "/* not an invariant: Precondition: in the middle */",
      ].join("\n"),
    };
    const found = extractInvariants([plantedSrc]);
    expect(found.map((i) => [i.kind, i.sentence, i.line])).toEqual([
      ["Precondition", "a planted key is refused before anything is sent", 3],
      ["Postcondition", "a planted entry is durable", 5],
      ["Precondition", "a planted invariant with a test", 7],
    ]);
    const plantedTests: TextFile = {
      path: "test/planted.test.ts",
      text: [
        'it("Precondition: a planted invariant with a test.", () => {});',
        // Look-alikes that must not count: other words, a skipped test, a todo, a comment.
        'it("a planted key is refused before anything is sent, mostly", () => {});',
        'it.skip("a planted entry is durable", () => {});',
        'it.todo("a planted entry is durable");',
        '// it("a planted entry is durable")',
        "expect(regex.test('a planted entry is durable')).toBe(true);",
      ].join("\n"),
    };
    const t = extractTestTitles([plantedTests]);
    expect(untestedInvariants(found, t).map((i) => i.sentence)).toEqual([
      "a planted key is refused before anything is sent",
      "a planted entry is durable",
    ]);
  });

  it("reads titles through vitest's and fast-check's modifiers", () => {
    const titles = extractTestTitles([
      {
        path: "test/forms.test.ts",
        text: [
          "it('single quotes', () => {});",
          "it(`template`, () => {});",
          'test("plain test", () => {});',
          'it.skipIf(pgUrl === null)("skip-if (runs on CI)", async () => {});',
          'it.each([[1, 2], [3, 4]])("each %i", (a) => {});',
          'test.prop([fc.string(), fc.nat()])("a property", (s, n) => {});',
          'it.concurrent("concurrent", async () => {});',
          'it(\n  "on the next line",\n  () => {},\n);',
          'it("escaped \\"quote\\"", () => {});',
        ].join("\n"),
      },
    ]);
    expect(titles).toEqual([
      "single quotes",
      "template",
      "plain test",
      "skip-if (runs on CI)",
      "each %i",
      "a property",
      "concurrent",
      "on the next line",
      'escaped "quote"',
    ]);
  });
});
