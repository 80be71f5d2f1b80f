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
  hasTest,
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

/**
 * Invariants whose tests are being written on other branches (the signer, the remote trading
 * client and the audit sequencer each have their own helper). The walker still requires them:
 * the lead empties this list when those branches merge. An entry that already has a test, or
 * that no longer names an invariant of those folders, fails the test, so the list cannot go stale.
 */
const PENDING_ELSEWHERE: readonly string[] = [
  // src/signer/ (signer helper)
  "the capability secret is compared in constant time against its stored hash",
  "once shutdown starts, new requests are refused; in-flight ones finish",
  "orders that were accepted before shutdown finish before the process closes",
  "a client order id already in flight or in the journal is never sent again",
  "an intent whose order never reached the exchange is closed as not sent",
  "a capability is honoured only for its bot, on its bound certificate, while live",
  "a bot acts only on its grant's exchanges, and only for its grant's actions",
  "order methods are reachable only through their own routes and actions",
  "operator routes need the operator credential, compared in constant time",
  // src/trading/remote/ (signer helper)
  'only "unavailable" answers are retried, with the same body (same client order id)',
];
/** The folders PENDING_ELSEWHERE may name invariants of. */
const ELSEWHERE = ["src/signer/", "src/trading/remote/", "src/audit/sequencer/"];

/** Invariants of this branch's own folders still without a test (to be emptied, not grown). */
const NOT_YET_TESTED: readonly string[] = [];

describe("architecture: every invariant comment has a test of the same title (STYLE.md)", () => {
  const src = tree("src");
  const invariants = extractInvariants(src);
  const titles = extractTestTitles([
    ...tree("test"),
    ...src.filter((f) => f.path.includes("/testing/")),
  ]);
  const allowed = new Set([...PENDING_ELSEWHERE, ...NOT_YET_TESTED]);

  it("finds the invariants of src/ and the test titles of test/", () => {
    expect(invariants.length).toBeGreaterThan(150);
    expect(titles.length).toBeGreaterThan(900);
  });

  it("every Precondition/Postcondition sentence in src/ is the title of a test", () => {
    const missing = untestedInvariants(invariants, titles)
      .filter((inv) => !allowed.has(inv.sentence))
      .map((inv) => `${inv.file}:${inv.line}: ${inv.kind}: ${inv.sentence}`);
    expect(missing).toEqual([]);
  });

  it("the pending lists are not stale: each entry is an invariant of its folders with no test yet", () => {
    for (const sentence of PENDING_ELSEWHERE) {
      const at = invariants.filter((inv) => inv.sentence === sentence);
      expect(at.length, sentence).toBeGreaterThan(0);
      for (const inv of at)
        expect(
          ELSEWHERE.some((d) => inv.file.startsWith(d)),
          inv.file,
        ).toBe(true);
      expect(
        hasTest(sentence, titles),
        `${sentence} has a test now: remove it from PENDING_ELSEWHERE`,
      ).toBe(false);
    }
    for (const sentence of NOT_YET_TESTED) {
      expect(
        invariants.some((inv) => inv.sentence === sentence),
        sentence,
      ).toBe(true);
      expect(
        hasTest(sentence, titles),
        `${sentence} has a test now: remove it from NOT_YET_TESTED`,
      ).toBe(false);
    }
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
