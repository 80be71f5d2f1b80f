/**
 * The offline audit verifier page (web/verifier) in real Chromium, opened from file:// exactly as
 * a user opens it from disk. Fixtures are made with the library (AuditLog, exports, a signed and
 * witness-cosigned checkpoint); the page must reach the same verdicts as the library.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildVerifierPage } from "../scripts/build-web.mjs";
import { inputBytes, loadAuditVectors } from "../test/audit/vectors.js";
import { describeBrowser, launchBrowser } from "./support/browser.js";
import {
  buildHistory,
  cosign,
  exportText,
  tamperJsonl,
  truncateJsonl,
} from "./support/fixtures.js";

// The docs' screenshot is rewritten only on request, so test runs leave the work tree clean:
// KEYWARDEN_UPDATE_SCREENSHOT=1 npx vitest run --config vitest.e2e.config.ts e2e/verifier.e2e.test.ts
const SCREENSHOT = resolve(
  import.meta.dirname,
  process.env.KEYWARDEN_UPDATE_SCREENSHOT === "1"
    ? "../docs/guides/verifier-screenshot.png"
    : "../.tmp/verifier-screenshot.png",
);

interface PageInputs {
  readonly exportPath: string;
  readonly checkpoint?: string;
  readonly vkey?: string;
  readonly witness?: string;
  readonly earlier?: string;
}

describeBrowser("offline verifier page (Chromium, file://)", () => {
  let dir: string;
  let pageUrl: string;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const f = {} as {
    jsonl: string;
    signed: string;
    csv: string;
    tampered: string;
    truncated: string;
    checkpoint: string;
    earlier: string;
    receipt: string;
    vkey: string;
    witnessKey: string;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-verifier-e2e-"));
    const built = await buildVerifierPage(join(dir, "page"));
    pageUrl = pathToFileURL(join(built.outDir, "index.html")).href;

    const h = await buildHistory();
    await h.append(0, 25);
    const earlier = await h.transparency.signCheckpoint(h.chainId);
    await h.append(25, 40);
    await h.log.erasePayload(h.chainId, 4);
    const signed = await h.transparency.signCheckpoint(h.chainId);
    const cosigned = await cosign(signed.note);
    const receipt = await h.transparency.receipt(h.chainId, 38, signed);
    const jsonl = await exportText(h.log, h.chainId, "jsonl");
    const files = {
      jsonl,
      signed: await exportText(h.log, h.chainId, "jsonl", h.signer),
      csv: await exportText(h.log, h.chainId, "csv"),
      tampered: tamperJsonl(jsonl, 7),
      truncated: truncateJsonl(jsonl, 5),
    };
    for (const [name, text] of Object.entries(files)) {
      const ext = name === "csv" ? "csv" : "jsonl";
      const path = join(dir, `${name}.${ext}`);
      await writeFile(path, text);
      f[name as keyof typeof files] = path;
    }
    f.checkpoint = cosigned.note;
    f.earlier = earlier.note;
    f.receipt = receipt;
    f.vkey = h.signer.verifierKey;
    f.witnessKey = cosigned.witnessKey;

    const b = await launchBrowser();
    context = b.context;
    closeBrowser = b.close;
    context.on("request", (r) => void requests.push(r.url()));
    context.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") consoleErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await closeBrowser?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function verify(inputs: PageInputs): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (e) => void consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-state='ready']");
    await page.setInputFiles("#export-file", inputs.exportPath);
    if (inputs.checkpoint) await page.fill("#checkpoint-text", inputs.checkpoint);
    if (inputs.vkey) await page.fill("#vkey-text", inputs.vkey);
    if (inputs.witness || inputs.earlier) await page.click("details.field > summary");
    if (inputs.witness) await page.fill("#witness-text", inputs.witness);
    if (inputs.earlier) await page.fill("#earlier-text", inputs.earlier);
    await page.click("#verify");
    await page.waitForSelector("body[data-state='done']", { timeout: 60_000 });
    return page;
  }

  const verdict = (page: Page) => page.getAttribute("body", "data-verdict");
  const resultText = (page: Page) => page.textContent("#result");

  it("a valid export with its cosigned checkpoint shows valid with the right entry count", async () => {
    const page = await verify({
      exportPath: f.jsonl,
      checkpoint: f.checkpoint,
      vkey: f.vkey,
      witness: f.witnessKey,
      earlier: f.earlier,
    });
    expect(await verdict(page)).toBe("valid");
    const text = await resultText(page);
    expect(text).toContain("All 40 entries are intact and in order");
    expect(text).toContain("your file holds exactly those 40 entries");
    expect(text).toContain("from 25 to 40 entries");
    expect(text).toContain("1 entry had its details erased");
    expect(await page.textContent("li[data-role='witness']")).toContain(
      "witness cosignature — valid",
    );
    expect(await page.textContent("#history-count")).toBe("40 of 40 entries");
    expect(await page.locator("#history-body tr").count()).toBe(40);
    expect(await page.textContent("#history-body tr[data-seq='4']")).toContain("redacted");
    expect(await page.locator("#chart svg rect.bar").count()).toBeGreaterThan(5);
    await page.fill("#filter-text", "ETH/USDT");
    const filtered = await page.textContent("#history-count");
    expect(filtered).toMatch(/^\d+ of 40 entries$/);
    expect(Number(filtered?.split(" ")[0])).toBeLessThan(40);
    await page.fill("#filter-text", "");
    await page.setViewportSize({ width: 1200, height: 1400 });
    await page.evaluate(() =>
      document.getElementById("result")?.scrollIntoView({ block: "start" }),
    );
    await mkdir(resolve(SCREENSHOT, ".."), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(png.length).toBeGreaterThan(50_000); // a rendered page, not a blank one
    await page.close();
  });

  it("a tampered export names the first broken entry and why", async () => {
    const page = await verify({ exportPath: f.tampered, checkpoint: f.checkpoint, vkey: f.vkey });
    expect(await verdict(page)).toBe("broken");
    const text = await resultText(page);
    expect(text).toContain("entry #7 (line 9 of the file) was changed after it was written");
    expect((await page.getAttribute("#history-body tr[data-seq='6']", "class")) ?? "").toBe("");
    expect(await page.getAttribute("#history-body tr[data-seq='7']", "class")).toBe(
      "unverified first-broken",
    );
    expect(await page.getAttribute("#history-body tr[data-seq='8']", "class")).toBe("unverified");
    await page.close();
  });

  it("a truncated export with a rewritten manifest is caught by the checkpoint", async () => {
    const alone = await verify({ exportPath: f.truncated });
    expect(await verdict(alone)).toBe("valid-unanchored");
    expect(await resultText(alone)).toContain("All 35 entries are intact");
    await alone.close();

    const page = await verify({ exportPath: f.truncated, checkpoint: f.checkpoint, vkey: f.vkey });
    expect(await verdict(page)).toBe("truncated");
    expect(await resultText(page)).toContain(
      "Signed by the platform for 40 entries, but your file holds only 35",
    );
    await page.close();
  });

  it("a receipt for an entry the truncated file lacks reports truncation", async () => {
    const page = await verify({ exportPath: f.truncated, vkey: f.vkey, earlier: f.receipt });
    expect(await verdict(page)).toBe("truncated");
    expect(await resultText(page)).toContain("entry #38 exists, but your file ends before it");
    await page.close();
  });

  it("a checkpoint checked with the wrong key is not accepted", async () => {
    const other = (await buildHistory()).signer.verifierKey;
    const page = await verify({ exportPath: f.jsonl, checkpoint: f.checkpoint, vkey: other });
    expect(await verdict(page)).toBe("bad-evidence");
    await page.close();
  });

  it("a signed export's manifest is checked with the verifier key", async () => {
    const page = await verify({ exportPath: f.signed, checkpoint: f.checkpoint, vkey: f.vkey });
    expect(await verdict(page)).toBe("valid");
    // The verdict line names the key that was trusted: its name and key id.
    const [keyName, keyId] = f.vkey.split("+");
    expect(await resultText(page)).toContain(
      `Signed by the platform with the verifier key you gave, ${keyName} (key ${keyId}):`,
    );
    expect(
      await page.textContent("li.check:has-text('its manifest') li[data-role='log']"),
    ).toContain(`${keyName} (key ${keyId}) platform signature — valid`);
    await page.close();

    const other = (await buildHistory()).signer.verifierKey;
    const wrong = await verify({ exportPath: f.signed, vkey: other });
    expect(await verdict(wrong)).toBe("bad-evidence");
    expect(await resultText(wrong)).toContain(
      "did not verify with the key you gave (manifest signature verification failed)",
    );
    await wrong.close();

    const unchecked = await verify({ exportPath: f.signed });
    expect(await verdict(unchecked)).toBe("not-checked");
    expect(await resultText(unchecked)).toContain(
      "The file is intact — signatures were not checked",
    );
    expect(await resultText(unchecked)).not.toContain("could not be trusted");
    expect(await resultText(unchecked)).toContain(
      "Signed by the platform, but not checked: enter the platform's verifier key.",
    );
    await unchecked.close();
  });

  it("a CSV export verifies", async () => {
    const page = await verify({ exportPath: f.csv, checkpoint: f.checkpoint, vkey: f.vkey });
    expect(await verdict(page)).toBe("valid");
    expect(await resultText(page)).toContain("All 40 entries are intact and in order");
    expect(await resultText(page)).toContain("CSV file");
    expect(await page.locator("#history-body tr").count()).toBe(40);
    await page.close();
  });

  it("a checkpoint with no verifier key is 'not checked', not an untrusted signature", async () => {
    const page = await verify({ exportPath: f.jsonl, checkpoint: f.checkpoint });
    expect(await verdict(page)).toBe("not-checked");
    const text = await resultText(page);
    expect(text).toContain("The file is intact — signatures were not checked");
    expect(text).not.toContain("could not be trusted");
    await page.close();
  });

  it("a malformed verifier key is reported, not silently ignored", async () => {
    const page = await verify({
      exportPath: f.signed,
      checkpoint: f.checkpoint,
      vkey: "not a key",
    });
    expect(await verdict(page)).toBe("bad-key");
    const text = await resultText(page);
    expect(text).toContain("The verifier key you entered is not valid");
    // The checks below the headline agree with it: nothing was checked, nothing "did not verify".
    expect(text).toContain(
      "Signed by the platform, but not checked: the verifier key you entered is not a valid key.",
    );
    expect(text).toContain(
      "Not checked: the verifier key you entered is not a valid key, so this signature could not be checked either way.",
    );
    expect(text).not.toContain("did not verify");
    expect(text).not.toContain("Not validly signed");
    expect(text).not.toContain("could not be trusted");
    await page.close();
  });

  it("an empty file, random bytes or a checkpoint picked as the export are 'not an audit export'", async () => {
    const cases: Array<[string, string | Uint8Array]> = [
      ["empty.jsonl", ""],
      ["random.csv", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2])],
      ["checkpoint.txt", f.checkpoint],
      ["receipt.jsonl", f.receipt],
    ];
    for (const [name, content] of cases) {
      const path = join(dir, name);
      await writeFile(path, content);
      const page = await verify({ exportPath: path });
      expect(await verdict(page), name).toBe("not-export");
      const text = await resultText(page);
      expect(text, name).toContain("This is not an audit export");
      expect(text, name).not.toContain("altered or damaged");
      await page.close();
    }
  });

  it("the conformance vectors' wrong kinds of file get the page's words for what they are", async () => {
    const byId = new Map(loadAuditVectors().map((v) => [v.id, v]));
    const cases: Array<[string, string]> = [
      ["jsonl-empty-file", "The file is empty (0 bytes)"],
      ["csv-empty-file", "The file is empty (0 bytes)"],
      ["jsonl-random-bytes", "The file is not text: it holds binary data"],
      ["csv-random-bytes", "The file is not text: it holds binary data"],
      ["jsonl-checkpoint-as-export", "The file is a signed checkpoint, not an export."],
      ["csv-checkpoint-as-export", "The file is a signed checkpoint, not an export."],
    ];
    for (const [id, words] of cases) {
      const v = byId.get(id);
      if (!v) throw new Error(`no vector ${id}`);
      // Named as the user's file would be: the page must read what it is from its content.
      const path = join(dir, `${id}.${v.format}`);
      await writeFile(path, inputBytes(v));
      const page = await verify({ exportPath: path });
      expect(await verdict(page), id).toBe("not-export");
      const text = await resultText(page);
      expect(text, id).toContain("This is not an audit export");
      expect(text, id).toContain(words);
      expect(text, id).not.toContain("altered or damaged");
      await page.close();
    }
    const notes = join(dir, "notes.jsonl");
    await writeFile(notes, "meeting notes, not an export\n");
    const textPage = await verify({ exportPath: notes });
    expect(await verdict(textPage)).toBe("not-export");
    expect(await resultText(textPage)).toContain(
      "The file is text, but not a keywarden audit export",
    );
    await textPage.close();
    for (const id of ["jsonl-bom", "csv-bom"]) {
      const v = byId.get(id);
      if (!v) throw new Error(`no vector ${id}`);
      const path = join(dir, `${id}.${v.format}`);
      await writeFile(path, inputBytes(v));
      const page = await verify({ exportPath: path });
      expect(await verdict(page), id).toBe("broken");
      expect(await resultText(page), id).toContain("byte-order mark (BOM, the bytes EF BB BF)");
      await page.close();
    }
  });

  it("a large broken history opens its table at the first broken entry, marked apart", async () => {
    const h = await buildHistory();
    await h.append(0, 340);
    const path = join(dir, "large-tampered.jsonl");
    await writeFile(path, tamperJsonl(await exportText(h.log, h.chainId, "jsonl"), 257));
    const page = await verify({ exportPath: path });
    expect(await verdict(page)).toBe("broken");
    expect(await resultText(page)).toContain("entry #257 (line 259 of the file)");
    // 100 rows a page: entry 257 is on page 3 of 4, which is the page shown.
    expect(await page.textContent("#pager")).toContain("page 3 of 4");
    expect((await page.getAttribute("#history-body tr[data-seq='256']", "class")) ?? "").toBe("");
    expect(await page.getAttribute("#history-body tr[data-seq='257']", "class")).toBe(
      "unverified first-broken",
    );
    expect(await page.textContent("#history-body tr[data-seq='257']")).toContain("✗ first problem");
    expect(await page.getAttribute("#history-body tr[data-seq='258']", "class")).toBe("unverified");
    expect(await page.textContent("#history-body tr[data-seq='258']")).toContain("⚠ not verified");
    await page.close();
  });

  it("a file starting with a BOM is named as such", async () => {
    const path = join(dir, "bom.jsonl");
    await writeFile(path, `\uFEFF${await readFile(f.jsonl, "utf8")}`);
    const page = await verify({ exportPath: path });
    expect(await verdict(page)).toBe("broken");
    expect(await resultText(page)).toContain("byte-order mark (BOM");
    await page.close();
  });

  it("the format comes from the content, not the file name", async () => {
    const path = join(dir, "export-named-wrongly.csv");
    await writeFile(path, await readFile(f.jsonl));
    const page = await verify({
      exportPath: path,
      checkpoint: f.checkpoint,
      vkey: f.vkey,
      witness: f.witnessKey,
    });
    expect(await verdict(page)).toBe("valid");
    expect(await resultText(page)).toContain("JSONL file");
    await page.close();
  });

  it("accessibility: focus on the verdict, a named progress bar, a captioned table, the ⚠ flag in words", async () => {
    const page = await verify({ exportPath: f.tampered });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("verdict");
    expect(await page.getAttribute("#progress-bar", "aria-label")).toBe("Verification progress");
    expect(await page.textContent("table caption")).toContain("not verified");
    expect(await page.textContent("#history-body")).toContain("⚠ not verified");
    // The first broken entry is marked apart from the rows after it.
    expect(await page.locator("#history-body tr.first-broken").count()).toBe(1);
    expect(await page.textContent("#history-body tr.first-broken")).toContain("✗ first problem");
    await page.close();
  });

  it("shows which key was trusted: its name and key id", async () => {
    const page = await verify({ exportPath: f.jsonl, checkpoint: f.checkpoint, vkey: f.vkey });
    const [name, id] = f.vkey.split("+");
    expect(await resultText(page)).toContain(`${name} (key ${id}) platform signature — valid`);
    await page.close();
  });

  it("a pasted checkpoint's surrounding blank lines are removed, and the page says so", async () => {
    const page = await verify({
      exportPath: f.jsonl,
      checkpoint: `\n\n${f.checkpoint.trimEnd()}  \n\n`,
      vkey: f.vkey,
      witness: f.witnessKey,
    });
    expect(await verdict(page)).toBe("valid");
    expect(await resultText(page)).toContain(
      "The text had blank lines or spaces around it, or lacked its final line end: they were removed before checking.",
    );
    await page.close();
    const exact = await verify({ exportPath: f.jsonl, checkpoint: f.checkpoint, vkey: f.vkey });
    expect(await resultText(exact)).not.toContain("blank lines or spaces around it");
    await exact.close();
  });

  it("a checkpoint file with CR LF line ends is refused, not silently converted", async () => {
    const path = join(dir, "checkpoint-crlf.txt");
    await writeFile(path, f.checkpoint.replace(/\n/g, "\r\n"));
    const page = await context.newPage();
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-state='ready']");
    await page.setInputFiles("#checkpoint-file", path);
    await expect
      .poll(() => page.textContent("#checkpoint-file-note"))
      .toContain('"checkpoint-crlf.txt" has Windows line ends (CR LF)');
    expect(await page.inputValue("#checkpoint-text")).toBe("");
    await page.close();
  });

  it("says when a dropped file was not recognised or replaced an earlier one", async () => {
    const page = await context.newPage();
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-state='ready']");
    const dropFiles = async (files: Array<{ name: string; text: string }>) => {
      const handle = await page.evaluateHandle((list) => {
        const dt = new DataTransfer();
        for (const x of list) dt.items.add(new File([x.text], x.name));
        return dt;
      }, files);
      await page.dispatchEvent("#drop", "drop", { dataTransfer: handle });
    };
    const jsonl = await readFile(f.jsonl, "utf8");
    await dropFiles([
      { name: "a.jsonl", text: jsonl },
      { name: "notes.txt", text: "hello" },
    ]);
    await expect
      .poll(() => page.textContent("#drop-note"))
      .toContain('"a.jsonl": taken as the export.');
    expect(await page.textContent("#drop-note")).toContain('"notes.txt": not recognised');
    await dropFiles([{ name: "b.jsonl", text: jsonl }]);
    await expect
      .poll(() => page.textContent("#drop-note"))
      .toContain('"b.jsonl": taken as the export, replacing "a.jsonl".');
    // Sorted by content, not by name: a checkpoint named like an export goes to its own field.
    await dropFiles([{ name: "latest.jsonl", text: f.checkpoint }]);
    await expect
      .poll(() => page.textContent("#drop-note"))
      .toContain('"latest.jsonl": taken as the signed checkpoint.');
    expect(await page.inputValue("#checkpoint-text")).toBe(f.checkpoint);
    expect(await page.textContent("#export-name")).toContain("b.jsonl");
    // A signed note with CR LF line ends is refused, not converted by the text field.
    await dropFiles([{ name: "crlf.txt", text: f.earlier.replace(/\n/g, "\r\n") }]);
    await expect
      .poll(() => page.textContent("#drop-note"))
      .toContain('"crlf.txt" has Windows line ends (CR LF)');
    expect(await page.inputValue("#earlier-text")).toBe("");
    await page.close();
  });

  it("the page made no network request and hit no CSP violation", () => {
    expect(requests.length).toBeGreaterThan(0);
    const foreign = requests.filter((u) => !/^(?:file|blob|data):/.test(u));
    expect(foreign).toEqual([]);
    expect(requests.some((u) => /^https?:/.test(u))).toBe(false);
    expect(consoleErrors).toEqual([]);
  });

  it("the page's Content-Security-Policy blocks network access even if code tried", async () => {
    const page = await context.newPage();
    await page.goto(pageUrl);
    const probe = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        violations.push(e.effectiveDirective);
      });
      const fetched = await fetch("http://127.0.0.1:9/leak").then(
        () => "fetched",
        () => "blocked",
      );
      const img = new Image();
      await new Promise((done) => {
        img.onload = done;
        img.onerror = done;
        img.src = "http://127.0.0.1:9/leak.png";
      });
      await new Promise((done) => setTimeout(done, 100));
      return { fetched, violations };
    });
    expect(probe.fetched).toBe("blocked");
    expect(probe.violations).toEqual(expect.arrayContaining(["connect-src", "img-src"]));
    await page.close();
  });
});
