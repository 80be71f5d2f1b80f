/**
 * Every ```ts example in docs/guides/*.md compiles against the library's sources: each block is
 * written as its own module into .tmp/, with a tsconfig that extends the root one (so
 * `keywarden/*` imports map to src/ exactly as for users of the package), and tsc checks them.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const guides = join(root, "docs", "guides");
const work = join(root, ".tmp", `guide-examples-${process.pid}`);

/** The ```ts blocks of a markdown text, with the line each starts on. */
function tsBlocks(markdown: string): { code: string; line: number }[] {
  const out: { code: string; line: number }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i] as string)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    out.push({ code: lines.slice(start, end).join("\n"), line: start + 1 });
    i = end;
  }
  return out;
}

describe("docs/guides code examples", () => {
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("extracts fenced ts blocks with their line numbers", () => {
    const md = "text\n```ts\nconst a = 1;\n```\n```sh\nls\n```\n```ts\nlet b;\n```\n";
    expect(tsBlocks(md)).toEqual([
      { code: "const a = 1;", line: 3 },
      { code: "let b;", line: 9 },
    ]);
  });

  it("every ts example in every guide compiles", async () => {
    const files = (await readdir(guides)).filter((f) => f.endsWith(".md")).sort();
    expect(files.length).toBeGreaterThan(3);
    await mkdir(work, { recursive: true });
    let count = 0;
    for (const f of files) {
      for (const b of tsBlocks(await readFile(join(guides, f), "utf8"))) {
        const name = `${f.replace(/\.md$/, "")}-L${b.line}.ts`;
        // Each block is a module of its own (top-level await, no name clashes between blocks).
        await writeFile(join(work, name), `${b.code}\nexport {};\n`);
        count++;
      }
    }
    expect(count).toBeGreaterThan(5);
    await writeFile(
      join(work, "tsconfig.json"),
      JSON.stringify({
        extends: "../../tsconfig.json",
        compilerOptions: { noEmit: true, noUnusedLocals: false },
        include: ["*.ts"],
      }),
    );
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const run = promisify(execFile);
    const result = await run(process.execPath, [tsc, "-p", join(work, "tsconfig.json")], {
      cwd: root,
    }).then(
      () => "",
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    // Errors name the guide and the markdown line of the block (file `<guide>-L<line>.ts`).
    expect(result).toBe("");
  }, 180_000);
});
