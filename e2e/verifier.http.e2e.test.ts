/**
 * The same page served by a plain static host (here a 127.0.0.1 server on port 0): it works
 * unchanged, and every request goes to the page's own origin.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildVerifierPage } from "../scripts/build-web.mjs";
import { describeBrowser, launchBrowser } from "./support/browser.js";
import { buildHistory, exportText } from "./support/fixtures.js";

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "verifier.js": "text/javascript; charset=utf-8",
  "verifier.css": "text/css; charset=utf-8",
};

describeBrowser("verifier page on a static host", () => {
  let dir: string;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-verifier-http-"));
    const built = await buildVerifierPage(join(dir, "page"));
    server = createServer((req, res) => {
      const name = basename(new URL(req.url ?? "/", "http://x").pathname) || "index.html";
      const type = TYPES[name];
      if (!type) {
        res.writeHead(404).end();
        return;
      }
      readFile(join(built.outDir, name)).then(
        (body) => res.writeHead(200, { "content-type": type }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => server?.close(done));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("verifies an export and requests nothing but its own three files", async () => {
    const h = await buildHistory();
    await h.append(0, 30);
    const { note } = await h.transparency.signCheckpoint(h.chainId);
    const exportPath = join(dir, "export.csv");
    await writeFile(exportPath, await exportText(h.log, h.chainId, "csv"));
    const b = await launchBrowser();
    const requests: string[] = [];
    try {
      b.context.on("request", (r) => void requests.push(r.url()));
      const page = await b.context.newPage();
      await page.goto(`${origin}/index.html`);
      await page.waitForSelector("body[data-state='ready']");
      await page.setInputFiles("#export-file", exportPath);
      await page.fill("#checkpoint-text", note);
      await page.fill("#vkey-text", h.signer.verifierKey);
      await page.click("#verify");
      await page.waitForSelector("body[data-state='done']");
      expect(await page.getAttribute("body", "data-verdict")).toBe("valid");
      expect(await page.getAttribute("body", "data-worker")).toBe("blob");
    } finally {
      await b.close();
    }
    const http = requests.filter((u) => /^https?:/.test(u));
    expect(http.sort()).toEqual(
      [`${origin}/index.html`, `${origin}/verifier.css`, `${origin}/verifier.js`].sort(),
    );
    expect(requests.filter((u) => !/^(?:https?|blob):/.test(u))).toEqual([]);
  });
});
