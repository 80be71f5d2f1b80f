/**
 * Heads receipts (docs/audit-format.md §18) on the offline verifier page in real Chromium: a user's
 * export, their chain checkpoint and a heads receipt made by the library's HeadsLog with two
 * witnesses (witnessCheckpoint, as `keywarden witness serve` runs it); the page must say in words
 * that the history is in the witnessed public log — or why not (wrong key, not enough witnesses,
 * tampered proof, a fork). Then the heads conformance vectors (test/vectors/heads/) run through
 * the page's heads check (web/verifier/src/heads.ts, bundled for the browser) in Chromium.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
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
import { loadHeadsVectors } from "../test/audit/heads-vectors.js";
import { describeBrowser, launchBrowser } from "./support/browser.js";
import { buildHistory, exportText } from "./support/fixtures.js";

const HEADS = "audit.example.com/keywarden-heads";
const root = join(import.meta.dirname, "..");

interface HeadsPageInputs {
  readonly exportPath: string;
  readonly checkpoint?: string;
  readonly vkey?: string;
  readonly receipt: string;
  readonly chainKey: string;
  readonly headsKey: string;
  readonly witnesses: readonly string[];
  readonly quorum?: number;
}

describeBrowser("verifier page: heads receipts (Chromium, file://)", () => {
  let dir: string;
  let pageUrl: string;
  let context: BrowserContext;
  let closeBrowser: () => Promise<void>;
  const consoleErrors: string[] = [];
  const f = {} as {
    exportPath: string;
    longerExportPath: string;
    checkpoint: string;
    vkey: string;
    receipt: string;
    forkReceipt: string;
    chainKey: string;
    headsKey: string;
    otherHeadsKey: string;
    witnesses: string[];
    strangerWitness: string;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-verifier-heads-"));
    const built = await buildVerifierPage(join(dir, "page"));
    pageUrl = pathToFileURL(join(built.outDir, "index.html")).href;

    const h = await buildHistory();
    await h.append(0, 30);
    const signed = await h.transparency.signCheckpoint(h.chainId);
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
      headsSecret: Secret.copyOf(new Uint8Array(32).fill(9)),
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
    // Other accounts' checkpoints around the user's, as in one interval of a real operator.
    const others = (n: number) => {
      for (let i = 0; i < n; i++)
        heads.enqueue({
          origin: `audit.example.com/keywarden/user:other${i}`,
          size: 3 + i,
          rootHash: new Uint8Array(32).fill(i + 1),
          timestamp: 1764400000 + i,
        });
    };
    others(5);
    const cp = signed.checkpoint;
    const at = heads.enqueue({
      origin: cp.origin,
      size: cp.size,
      rootHash: cp.rootHash,
      timestamp: cp.timestamp ?? 0,
    });
    others(4);
    const batch = await heads.integrate();
    f.receipt = await heads.receipt((batch?.firstIndex ?? 0) + at);
    // The operator records another root for the same chain size in a later batch: a fork.
    const forkAt = heads.enqueue({
      origin: cp.origin,
      size: cp.size,
      rootHash: new Uint8Array(32).fill(0xee),
      timestamp: cp.timestamp ?? 0,
    });
    const forkBatch = await heads.integrate();
    f.forkReceipt = await heads.receipt((forkBatch?.firstIndex ?? 0) + forkAt);

    f.exportPath = join(dir, "alice.jsonl");
    await writeFile(f.exportPath, await exportText(h.log, h.chainId, "jsonl"));
    await h.append(30, 34);
    f.longerExportPath = join(dir, "alice-later.jsonl");
    await writeFile(f.longerExportPath, await exportText(h.log, h.chainId, "jsonl"));
    f.checkpoint = signed.note;
    f.vkey = h.signer.verifierKey;
    f.chainKey = toBase64(heads.chainKey(cp.origin));
    f.headsKey = headsSigner.verifierKey;
    f.otherHeadsKey = LocalEd25519Signer.generate(HEADS).signer.verifierKey;
    f.witnesses = witnesses.map((w) => w.cosigner.verifierKey);
    f.strangerWitness = createCosigner(
      LocalEd25519Signer.generate("witness-c.example").signer,
    ).verifierKey;

    const b = await launchBrowser();
    context = b.context;
    closeBrowser = b.close;
    context.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") consoleErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await closeBrowser?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function verify(inputs: HeadsPageInputs): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (e) => void consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-state='ready']");
    await page.setInputFiles("#export-file", inputs.exportPath);
    if (inputs.checkpoint) await page.fill("#checkpoint-text", inputs.checkpoint);
    if (inputs.vkey) await page.fill("#vkey-text", inputs.vkey);
    await page.click("#heads-fields > summary");
    await page.fill("#heads-receipt-text", inputs.receipt);
    await page.fill("#chain-key-text", inputs.chainKey);
    await page.fill("#heads-vkey-text", inputs.headsKey);
    await page.fill("#heads-witness-text", inputs.witnesses.join("\n"));
    if (inputs.quorum !== undefined) await page.fill("#heads-quorum", String(inputs.quorum));
    await page.click("#verify");
    await page.waitForSelector("body[data-state='done']", { timeout: 60_000 });
    return page;
  }
  const verdict = (page: Page) => page.getAttribute("body", "data-verdict");
  const headsItem = (page: Page) => page.textContent("li[data-heads]");
  const headsStatus = (page: Page) => page.getAttribute("li[data-heads]", "data-heads");
  const valid = () => ({
    exportPath: f.exportPath,
    checkpoint: f.checkpoint,
    vkey: f.vkey,
    receipt: f.receipt,
    chainKey: f.chainKey,
    headsKey: f.headsKey,
    witnesses: f.witnesses,
  });

  it("a valid heads receipt: the history is in the witnessed public log, in plain words", async () => {
    const page = await verify(valid());
    expect(await verdict(page)).toBe("valid");
    expect(await headsStatus(page)).toBe("matches");
    const text = await headsItem(page);
    expect(text).toContain(
      `The platform's public log of every account (the heads log ${HEADS}, 10 records; 2 of the 2 witnesses you listed cosigned it (you asked for 2)) contains record #5 for your account`,
    );
    expect(text).toContain("it holds exactly the summary of your signed checkpoint (30 entries)");
    expect(text).toContain("The platform published this same history to everyone.");
    expect(await page.locator("li[data-heads] li[data-role='witness']").count()).toBe(2);
    await page.close();
  });

  it("without a chain checkpoint the record is compared with the export itself; a newer export is covered up to it", async () => {
    const page = await verify({ ...valid(), checkpoint: "", vkey: "" });
    expect(await verdict(page)).toBe("valid");
    expect(await headsItem(page)).toContain("exactly the summary of your file's 30 entries");
    await page.close();
    const later = await verify({
      ...valid(),
      exportPath: f.longerExportPath,
      checkpoint: "",
      vkey: "",
    });
    expect(await verdict(later)).toBe("valid-prefix");
    expect(await headsStatus(later)).toBe("covers-prefix");
    expect(await headsItem(later)).toContain(
      "exactly the summary of the first 30 entries of your file",
    );
    await later.close();
  });

  it("a heads receipt checked with the wrong heads-log key is not accepted", async () => {
    const page = await verify({ ...valid(), headsKey: f.otherHeadsKey });
    expect(await verdict(page)).toBe("bad-evidence");
    expect(await headsStatus(page)).toBe("heads-signature");
    expect(await headsItem(page)).toContain(
      "The heads receipt is not signed by the heads log's key you gave",
    );
    await page.close();
  });

  it("another account's chain key: the record is not for this account", async () => {
    const page = await verify({ ...valid(), chainKey: toBase64(new Uint8Array(32).fill(3)) });
    expect(await verdict(page)).toBe("bad-evidence");
    expect(await headsStatus(page)).toBe("not-this-chain");
    expect(await headsItem(page)).toContain("its record is not for your account");
    await page.close();
  });

  it("not enough witnesses: 2 of the 3 listed cosigned, 3 required", async () => {
    const page = await verify({
      ...valid(),
      witnesses: [...f.witnesses, f.strangerWitness],
      quorum: 3,
    });
    expect(await verdict(page)).toBe("bad-evidence");
    expect(await headsStatus(page)).toBe("witness-quorum");
    expect(await headsItem(page)).toContain(
      "not enough witnesses cosigned it: 2 of the 3 witnesses you listed cosigned it (you asked for 3)",
    );
    await page.close();
    // The same receipt with a quorum of 2 of those 3 is fine.
    const two = await verify({
      ...valid(),
      witnesses: [...f.witnesses, f.strangerWitness],
      quorum: 2,
    });
    expect(await verdict(two)).toBe("valid");
    await two.close();
  });

  it("a tampered inclusion proof is caught", async () => {
    const lines = f.receipt.split("\n");
    const i = lines.findIndex((l, k) => k > 2 && /^[A-Za-z0-9+/]{43}=$/.test(l));
    const b = Buffer.from(lines[i] as string, "base64");
    b[0] = (b[0] as number) ^ 1;
    lines[i] = b.toString("base64");
    const page = await verify({ ...valid(), receipt: lines.join("\n") });
    expect(await verdict(page)).toBe("bad-evidence");
    expect(await headsStatus(page)).toBe("inclusion");
    expect(await headsItem(page)).toContain("The proof in the heads receipt does not verify");
    await page.close();
  });

  it("a second root for the same chain size in the heads log is reported as a fork", async () => {
    const page = await verify({ ...valid(), receipt: f.forkReceipt });
    expect(await verdict(page)).toBe("forked");
    expect(await page.textContent("#verdict")).toContain(
      "The platform published a different history of your account",
    );
    expect(await headsItem(page)).toContain(
      "with a DIFFERENT summary than your signed checkpoint (30 entries)",
    );
    await page.close();
  });

  it("dropped files are sorted: heads receipt, chain key, heads-log key and witness keys", async () => {
    const page = await context.newPage();
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-state='ready']");
    const files = [
      { name: "heads.pub", text: `${f.headsKey}\n` },
      { name: "w1.pub", text: `${f.witnesses[0]}\n` },
      { name: "chain-key.txt", text: `${f.chainKey}\n` },
      { name: "heads.receipt", text: f.receipt },
      { name: "platform.pub", text: `${f.vkey}\n` },
    ];
    const handle = await page.evaluateHandle((list) => {
      const dt = new DataTransfer();
      for (const x of list) dt.items.add(new File([x.text], x.name));
      return dt;
    }, files);
    await page.dispatchEvent("#drop", "drop", { dataTransfer: handle });
    await expect
      .poll(() => page.textContent("#drop-note"))
      .toContain('"heads.receipt": taken as the heads receipt.');
    const note = await page.textContent("#drop-note");
    expect(note).toContain(`"heads.pub": taken as the heads log's verifier key.`);
    expect(note).toContain(`"w1.pub": added as a witness key of the heads log.`);
    expect(note).toContain(`"chain-key.txt": taken as your chain key.`);
    expect(note).toContain(`"platform.pub": taken as the platform's verifier key.`);
    expect(await page.inputValue("#heads-vkey-text")).toBe(f.headsKey);
    expect(await page.inputValue("#vkey-text")).toBe(f.vkey);
    await page.close();
  });

  it("heads conformance vectors: the page's heads check reaches each vector's result", async () => {
    const vectors = loadHeadsVectors();
    expect(vectors.length).toBeGreaterThanOrEqual(25);
    const bundle = await build({
      stdin: {
        contents:
          'import { checkHeadsAgainst } from "./web/verifier/src/heads.ts"; globalThis.kwHeads = checkHeadsAgainst;',
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      format: "iife",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const page = await context.newPage();
    await page.setContent("<!doctype html><title>heads vectors</title>");
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? "" });
    const results = await page.evaluate((list) => {
      type Finding = {
        status: string;
        headsOrigin?: string;
        headsSize?: number;
        headsIndex?: number;
        witnessesValid?: number;
      };
      const check = (globalThis as unknown as { kwHeads: (i: unknown, c: unknown) => Finding })
        .kwHeads;
      const out: Record<string, unknown> = {};
      for (const v of list) {
        const r = check(
          {
            receipt: v.input.text,
            chainKey: v.trusted.chainKey,
            headsKeys: v.trusted.headsKeys,
            witnessKeys: v.trusted.witnessKeys,
            quorum: v.trusted.quorum,
            ...(v.trusted.origin === undefined ? {} : { origin: v.trusted.origin }),
          },
          {
            size: v.chain.size,
            rootHash: Uint8Array.from(atob(v.chain.root), (c) => c.charCodeAt(0)),
            time: v.chain.time ?? undefined,
          },
        );
        out[v.id] =
          r.status === "matches"
            ? {
                valid: true,
                headsOrigin: r.headsOrigin,
                headsSize: r.headsSize,
                headsIndex: r.headsIndex,
                witnesses: r.witnessesValid,
              }
            : { valid: false, reason: r.status };
      }
      return out;
    }, vectors);
    await page.close();
    const expected = (v: (typeof vectors)[number]) =>
      v.result.valid ? { ...v.result, witnesses: v.result.witnesses.length } : v.result;
    const disagreements = vectors
      .filter((v) => JSON.stringify(results[v.id]) !== JSON.stringify(expected(v)))
      .map((v) => ({ id: v.id, expected: expected(v), got: results[v.id] }));
    expect(disagreements).toEqual([]);
  });

  it("no console errors or page errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
