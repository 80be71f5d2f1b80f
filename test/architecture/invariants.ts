/**
 * The invariants walker of STYLE.md ("Invariants in words"): every `/* Precondition: … *\/` or
 * `/* Postcondition: … *\/` comment in src/ names a sentence, and some test must carry that
 * sentence as its title. Pure functions over file texts: the test feeds them the real tree, and
 * planted trees to prove they catch what they should.
 *
 * Matching: a title matches a sentence when, after collapsing whitespace, dropping one optional
 * `Precondition: ` / `Postcondition: ` prefix and one final full stop on either side, the two are
 * equal. Nothing looser: a test "about" the invariant with other words does not count.
 */

/** One invariant comment: its sentence and where it is enforced. */
export interface Invariant {
  readonly kind: "Precondition" | "Postcondition";
  readonly sentence: string;
  readonly file: string;
  readonly line: number;
}

export interface TextFile {
  readonly path: string;
  readonly text: string;
}

/** Whitespace collapsed, one `Pre/Postcondition:` prefix and one final full stop dropped. */
export function normalizeSentence(s: string): string {
  return s
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^(?:Pre|Post)condition:\s*/, "")
    .replace(/\.$/, "")
    .trim();
}

/**
 * Every invariant comment in `files`: block comments (`/*` or `/**`, one line or several, with or
 * without leading `*` on continuation lines) whose text starts with `Precondition:` or
 * `Postcondition:`. String literals are not comments: a test title in a shipped conformance suite
 * that quotes the sentence is not an invariant of its own.
 */
export function extractInvariants(files: readonly TextFile[]): Invariant[] {
  const out: Invariant[] = [];
  for (const f of files) {
    for (const c of blockComments(f.text)) {
      const body = c.body
        .split("\n")
        .map((l) => l.replace(/^\s*\*(?!\/)\s?/, ""))
        .join(" ")
        .trim();
      const m = /^(Precondition|Postcondition):\s*([\s\S]+)$/.exec(body);
      if (!m) continue;
      out.push({
        kind: m[1] as Invariant["kind"],
        sentence: normalizeSentence(m[2] as string),
        file: f.path,
        line: c.line,
      });
    }
  }
  return out;
}

/** Block comments of a TypeScript text, skipping string and template literals and line comments. */
function blockComments(text: string): { body: string; line: number }[] {
  const out: { body: string; line: number }[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end;
      const raw = text.slice(i + 2, stop).replace(/^\*/, "");
      out.push({ body: raw, line: text.slice(0, i).split("\n").length });
      i = stop + 2;
    } else if (ch === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? n : end;
    } else if (ch === '"' || ch === "'" || ch === "`") {
      i = skipString(text, i);
    } else i++;
  }
  return out;
}

/** `text` with its comments blanked out (string literals kept), so commented-out tests do not count. */
function withoutComments(text: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === "/" && (text[i + 1] === "*" || text[i + 1] === "/")) {
      const block = text[i + 1] === "*";
      const end = block ? text.indexOf("*/", i + 2) : text.indexOf("\n", i);
      const stop = end < 0 ? n : block ? end + 2 : end;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (ch === '"' || ch === "'" || ch === "`") {
      const stop = skipString(text, i);
      out += text.slice(i, stop);
      i = stop;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal starting at `i` (templates: nested `${}` not parsed). */
function skipString(text: string, i: number): number {
  const q = text[i];
  let j = i + 1;
  while (j < text.length && text[j] !== q) {
    if (text[j] === "\\") j++;
    else if (q !== "`" && text[j] === "\n") break; // unterminated: stop at the line's end
    j++;
  }
  return j + 1;
}

/** Reads the string literal at `i` (no interpolation in templates), or undefined. */
function stringAt(text: string, i: number): string | undefined {
  const q = text[i];
  if (q !== '"' && q !== "'" && q !== "`") return undefined;
  let s = "";
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j] as string;
    if (c === q) return s;
    if (q === "`" && c === "$" && text[j + 1] === "{") return undefined;
    if (c === "\\") {
      const e = text[++j] as string;
      s += e === "n" ? "\n" : e === "t" ? "\t" : e;
    } else s += c;
  }
  return undefined;
}

/** Index just past the balanced `(...)` that opens at `i`. */
function skipParens(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === '"' || c === "'" || c === "`") {
      j = skipString(text, j) - 1;
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return j + 1;
  }
  return text.length;
}

/** Modifiers after which the call still defines a test that runs (at least conditionally). */
const RUNS = new Set([
  "only",
  "concurrent",
  "sequential",
  "fails",
  "skipIf",
  "runIf",
  "each",
  "for",
  "prop",
]);

/**
 * The titles of every test defined in `files`: the first string argument of `it(…)` / `test(…)`,
 * also through `.only`, `.concurrent`, `.skipIf(…)`, `.runIf(…)`, `.each(…)`, `.for(…)` and
 * fast-check's `test.prop(…)(…)`. `it.skip` and `it.todo` define no test that runs and are not
 * counted, nor are tests in comments.
 */
export function extractTestTitles(files: readonly TextFile[]): string[] {
  const out: string[] = [];
  const start = /(?<![\w$.])(?:it|test)(?=\s*[.(])/g;
  for (const f of files) {
    const text = withoutComments(f.text);
    for (const m of text.matchAll(start)) {
      let i = (m.index as number) + m[0].length;
      let runs = true;
      for (;;) {
        while (/\s/.test(text[i] ?? "")) i++;
        if (text[i] === ".") {
          const name = /^\.\s*([A-Za-z]+)/.exec(text.slice(i, i + 40));
          if (!name) break;
          if (!RUNS.has(name[1] as string)) runs = false;
          i += name[0].length;
          continue;
        }
        if (text[i] !== "(") break;
        let k = i + 1;
        while (/\s/.test(text[k] ?? "")) k++;
        const title = stringAt(text, k);
        if (title !== undefined) {
          if (runs) out.push(title);
          break;
        }
        // A modifier's own arguments (skipIf(cond), each(table), prop(arbs)): the title follows.
        i = skipParens(text, i);
      }
    }
  }
  return out;
}

/** The invariants no test title matches, in source order. */
export function untestedInvariants(
  invariants: readonly Invariant[],
  titles: readonly string[],
): Invariant[] {
  const have = new Set(titles.map(normalizeSentence));
  return invariants.filter((inv) => !have.has(inv.sentence));
}

/** True when some test title matches `sentence`. */
export function hasTest(sentence: string, titles: readonly string[]): boolean {
  const want = normalizeSentence(sentence);
  return titles.some((t) => normalizeSentence(t) === want);
}
