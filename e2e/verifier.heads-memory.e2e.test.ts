/**
 * The verifier page's memory of heads receipts (issue #20) in real Chromium: the page remembers, in
 * localStorage, each chain size and root it verified through a heads log, and on a later check
 * reports a FORK (another root for a size it saw) or a SHRINK (a smaller chain later in the heads
 * log) in plain words, using the library's observeHead; either fails the page's main verdict
 * ("Not consistent with what this browser saw before"), not only the alarm below it. "Forget" clears it. The receipts are made
 * by the library's HeadsLog with two witnesses, as in verifier.heads.e2e.test.ts.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildVerifierPage } from "../scripts/build-web.mjs";
import { toBase64 } from "../src/audit/primitives/index.js";
import { HeadsLog } from "../src/audit/transparency/heads/index.js";
import { parseVerifierKey } from "../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../src/audit/transparency/signer.js";
import {
  createCosigner,
  MemoryWitnessState,
  witnessCheckpoint,
} from "../src/audit/transparency/witness.js";
import { Secret } from "../src/secret.js";
import { describeBrowser, launchBrowser } from "./support/browser.js";
import { buildHistory, exportText } from "./support/fixtures.js";

const HEADS = "audit.example.com/keywarden-heads";

describeBrowser(
  "verifier page: remembered heads state, fork and shrink (Chromium, file://)",
  () => {
    let dir: string;
    let pageUrl: string;
    let context: BrowserContext;
    let closeBrowser: () => Promise<void>;
    const consoleErrors: string[] = [];
    const f = {} as {
      exportA: string;
      exportB: string;
      receiptA30: string;
      receiptB30: string;
      receiptA20: string;
      chainKey: string;
      headsKey: string;
      witnesses: string[];
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "kw-verifier-heads-memory-"));
      const built = await buildVerifierPage(join(dir, "page"));
      pageUrl = pathToFileURL(join(built.outDir, "index.html")).href;

      // History A: alice's account at 20 and at 30 entries. History B: the same account (same
      // origin) with other entries — the platform showing a second history of it.
      const a = await buildHistory();
      await a.append(0, 20);
      const a20 = (await a.transparency.signCheckpoint(a.chainId)).checkpoint;
      await a.append(20, 30);
      const a30 = (await a.transparency.signCheckpoint(a.chainId)).checkpoint;
      const b = await buildHistory(53 * 60_000);
      await b.append(0, 30);
      const b30 = (await b.transparency.signCheckpoint(b.chainId)).checkpoint;
      expect(b30.origin).toBe(a30.origin);
      expect(b30.size).toBe(a30.size);

      const { signer: headsSigner } = LocalEd25519Signer.generate(HEADS);
      const headsKey = parseVerifierKey(headsSigner.verifierKey);
      const witnesses = ["witness-a.example", "witness-b.example"].map((n) => ({
        cosigner: createCosigner(LocalEd25519Signer.generate(n).signer),
        state: new MemoryWitnessState(),
      }));
      const heads = await HeadsLog.open({
        dir: join(dir, "heads"),
        origin: HEADS,
        signer: headsSigner,
        headsSecret: Secret.copyOf(new Uint8Array(32).fill(7)),
        cosign: async (note, proofFrom, oldSize) => {
          const proof = await proofFrom(oldSize);
          let out = note;
          for (const w of witnesses) {
            const r = await witnessCheckpoint({
              note,
              proof,
              logs: { [HEADS]: [headsKey] },
              state: w.state,
              cosigner: w.cosigner,
            });
            if (!r.ok) throw new Error(`witness refused: ${r.reason}`);
            out += r.cosignature;
          }
          return out;
        },
      });
      // One record per batch, in this order: A at 30, B at 30 (a fork), A at 20 (a shrink).
      const record = async (cp: typeof a30) => {
        heads.enqueue({
          origin: `audit.example.com/keywarden/user:other${cp.size}`,
          size: 4,
          rootHash: new Uint8Array(32).fill(cp.size),
          timestamp: 1764400000,
        });
        const at = heads.enqueue({
          origin: cp.origin,
          size: cp.size,
          rootHash: cp.rootHash,
          timestamp: cp.timestamp ?? 0,
        });
        const batch = await heads.integrate();
        return heads.receipt((batch?.firstIndex ?? 0) + at);
      };
      f.receiptA30 = await record(a30);
      f.receiptB30 = await record(b30);
      f.receiptA20 = await record(a20);

      f.exportA = join(dir, "alice-a.jsonl");
      await writeFile(f.exportA, await exportText(a.log, a.chainId, "jsonl"));
      f.exportB = join(dir, "alice-b.jsonl");
      await writeFile(f.exportB, await exportText(b.log, b.chainId, "jsonl"));
      f.chainKey = toBase64(heads.chainKey(a30.origin));
      f.headsKey = headsSigner.verifierKey;
      f.witnesses = witnesses.map((w) => w.cosigner.verifierKey);

      const br = await launchBrowser();
      context = br.context;
      closeBrowser = br.close;
      context.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") consoleErrors.push(m.text());
      });
    });

    afterAll(async () => {
      await closeBrowser?.();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    async function verify(exportPath: string, receipt: string): Promise<Page> {
      const page = await context.newPage();
      page.on("pageerror", (e) => void consoleErrors.push(`pageerror: ${e.message}`));
      await page.goto(pageUrl);
      await page.waitForSelector("body[data-state='ready']");
      await page.setInputFiles("#export-file", exportPath);
      await page.click("#heads-fields > summary");
      await page.fill("#heads-receipt-text", receipt);
      await page.fill("#chain-key-text", f.chainKey);
      await page.fill("#heads-vkey-text", f.headsKey);
      await page.fill("#heads-witness-text", f.witnesses.join("\n"));
      await page.click("#verify");
      await page.waitForSelector("body[data-state='done']", { timeout: 60_000 });
      return page;
    }
    const memory = (page: Page) => page.getAttribute("#heads-memory", "data-memory");
    const memoryText = (page: Page) => page.textContent("#heads-memory-text");
    const headsStatus = (page: Page) => page.getAttribute("li[data-heads]", "data-heads");
    const verdict = (page: Page) => page.getAttribute("#verdict", "data-verdict");
    const verdictTitle = (page: Page) => page.textContent("#verdict h2");
    const INCONSISTENT = "Not consistent with what this browser saw before";

    it("remembers a verified record, then: same again is consistent; another root at that size is a FORK; a smaller size later is a SHRINK; Forget clears it", async () => {
      const first = await verify(f.exportA, f.receiptA30);
      expect(await headsStatus(first)).toBe("matches");
      expect(await memory(first)).toBe("first");
      expect(await verdict(first)).toBe("valid");
      expect(await memoryText(first)).toContain("it now remembers your history at 30 entries");
      expect(await memoryText(first)).toContain("This page remembers, in this browser only");
      expect(await first.isVisible("#heads-forget")).toBe(true);
      expect(await first.getAttribute("#heads-memory", "class")).toBe("verdict ok");
      await first.close();

      const again = await verify(f.exportA, f.receiptA30);
      expect(await memory(again)).toBe("consistent");
      expect(await verdict(again)).toBe("valid");
      await again.close();

      // The second history verifies on its own (its receipt matches its file) — only the memory
      // shows that this account's history was shown two different ways.
      const fork = await verify(f.exportB, f.receiptB30);
      expect(await headsStatus(fork)).toBe("matches");
      expect(await memory(fork)).toBe("fork");
      // The headline itself fails: a reader of the verdict alone does not read "checks out".
      expect(await verdict(fork)).toBe("inconsistent-with-memory");
      expect(await fork.getAttribute("body", "data-verdict")).toBe("inconsistent-with-memory");
      expect(await fork.getAttribute("#verdict", "class")).toBe("verdict bad");
      expect(await verdictTitle(fork)).toBe(INCONSISTENT);
      expect(await fork.textContent("#verdict")).toContain("(a fork)");
      expect(await fork.getAttribute("body", "data-memory")).toBe("fork");
      expect(await fork.getAttribute("#heads-memory", "class")).toBe("verdict bad");
      expect(await fork.getAttribute("#heads-memory", "role")).toBe("alert");
      expect(await fork.evaluate(() => document.activeElement?.id)).toBe("heads-memory");
      expect(await memoryText(fork)).toContain(
        "FORK: this account's history was shown to you two different ways.",
      );
      await fork.close();

      const shrink = await verify(f.exportA, f.receiptA20);
      expect(await headsStatus(shrink)).toBe("covers-prefix");
      expect(await memory(shrink)).toBe("shrink");
      expect(await verdict(shrink)).toBe("inconsistent-with-memory");
      expect(await shrink.getAttribute("#verdict", "class")).toBe("verdict bad");
      expect(await verdictTitle(shrink)).toBe(INCONSISTENT);
      expect(await shrink.textContent("#verdict")).toContain("(a shrink)");
      expect(await memoryText(shrink)).toContain("SHRINK: this account's history got shorter.");
      expect(await memoryText(shrink)).toContain("at 30 entries in the heads log");
      expect(await memoryText(shrink)).toContain("records it at 20 entries");
      await shrink.click("#heads-forget");
      expect(await memory(shrink)).toBe("forgotten");
      expect(await memoryText(shrink)).toContain("Forgotten:");
      expect(
        await shrink.evaluate(() => localStorage.getItem("keywarden-verifier/heads-memory/v1")),
      ).toBeNull();
      await shrink.close();

      // After Forget the smaller record is simply the first thing seen.
      const fresh = await verify(f.exportA, f.receiptA20);
      expect(await memory(fresh)).toBe("first");
      expect(await verdict(fresh)).toBe("valid-prefix");
      expect(await memoryText(fresh)).toContain("remembers your history at 20 entries");
      await fresh.close();
      expect(consoleErrors).toEqual([]);
    });

    it("stored memory that is not the page's JSON is not trusted: replaced, and said so", async () => {
      const page = await context.newPage();
      await page.goto(pageUrl);
      await page.evaluate(() =>
        localStorage.setItem("keywarden-verifier/heads-memory/v1", '{"x":{"size":"30"}}'),
      );
      await page.close();
      const p = await verify(f.exportA, f.receiptA30);
      expect(await memory(p)).toBe("reset");
      expect(await memoryText(p)).toContain("was unreadable and was replaced");
      await p.click("#heads-forget");
      await p.close();
    });
  },
);
