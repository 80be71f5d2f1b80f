/**
 * A 100,000-entry export verifies in the page's Web Worker with a progress bar, while the page
 * itself stays responsive. Prints the measured times (fixture, verification in the worker).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildVerifierPage } from "../scripts/build-web.mjs";
import { describeBrowser, launchBrowser } from "./support/browser.js";
import { buildHistory, exportText } from "./support/fixtures.js";

const ENTRIES = 100_000;

describeBrowser(`offline verifier page with ${ENTRIES} entries`, () => {
  let dir: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-verifier-large-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    // Measured figures for the report (stderr is not the console the no-console guard watches).
    process.stderr.write(`verifier-large timings (ms): ${JSON.stringify(timings)}\n`);
  });

  it("verifies in the worker with a progress bar while the page stays responsive", async () => {
    let t = Date.now();
    const h = await buildHistory(60_000);
    await h.append(0, ENTRIES);
    const { note } = await h.transparency.signCheckpoint(h.chainId);
    const exportPath = join(dir, "large.jsonl");
    await writeFile(exportPath, await exportText(h.log, h.chainId, "jsonl"));
    timings.fixture = Date.now() - t;

    const built = await buildVerifierPage(join(dir, "page"));
    const b = await launchBrowser();
    try {
      const page = await b.context.newPage();
      await page.goto(pathToFileURL(join(built.outDir, "index.html")).href);
      await page.waitForSelector("body[data-state='ready']");
      await page.setInputFiles("#export-file", exportPath);
      await page.fill("#checkpoint-text", note);
      await page.fill("#vkey-text", h.signer.verifierKey);
      t = Date.now();
      await page.click("#verify");
      const progress: number[] = [];
      let slowestRoundTrip = 0;
      for (;;) {
        const asked = Date.now();
        const s = await page.evaluate(() => ({
          state: document.body.dataset.state,
          visible: !(document.getElementById("progress") as HTMLElement).hidden,
          value: (document.getElementById("progress-bar") as HTMLProgressElement).value,
        }));
        if (s.state === "done") break;
        // While the worker checks entries (the first 70 % of the bar) the page must answer; the
        // final render of 100,000 rows after the worker finished is not counted.
        if (s.visible && s.value < 0.7)
          slowestRoundTrip = Math.max(slowestRoundTrip, Date.now() - asked);
        if (s.visible) progress.push(s.value);
        await new Promise((r) => setTimeout(r, 25));
      }
      timings.verifyInWorker = Date.now() - t;
      timings.slowestPageRoundTrip = slowestRoundTrip;
      const meta = (await page.textContent("#verdict .meta")) ?? "";
      timings.workerReported = Number(/checked in ([\d.]+) s/.exec(meta)?.[1] ?? Number.NaN) * 1000;

      expect(await page.getAttribute("body", "data-worker")).toBe("blob");
      expect(await page.getAttribute("body", "data-verdict")).toBe("valid");
      expect(await page.textContent("#result")).toContain(
        `All ${ENTRIES} entries are intact and in order`,
      );
      expect(await page.textContent("#history-count")).toBe(`${ENTRIES} of ${ENTRIES} entries`);
      // The bar moved: several distinct values strictly between empty and full were shown.
      const between = new Set(progress.filter((v) => v > 0 && v < 1));
      expect(between.size).toBeGreaterThan(2);
      expect([...progress]).toEqual([...progress].sort((a, b) => a - b));
      // The page answered while the worker hashed (a blocked main thread takes seconds).
      expect(slowestRoundTrip).toBeLessThan(2_000);
    } finally {
      await b.close();
    }
  }, 120_000);
});
