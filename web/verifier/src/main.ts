/// <reference lib="dom" />
/**
 * The page: collects the files and keys, runs the verification in a Web Worker (started from a
 * blob: URL, since file:// pages cannot load worker files), shows progress, then the result, the
 * history table and the activity chart. No network: the page's CSP forbids it and nothing here
 * asks for it.
 */
import { RECEIPT_HEADER } from "../../../src/audit/transparency/portable.js";
import { byId } from "./dom.js";
import type { VerifyProgress, VerifyReport } from "./engine.js";
import { isHeadsReceipt } from "./heads.js";
import {
  forgetHeads,
  type MemoryFinding,
  memoryText,
  rememberHeads,
  verdictWithMemory,
} from "./memory.js";
import type { VerifyJob, WorkerMessage } from "./protocol.js";
import { renderSummary } from "./summary.js";
import { renderHistory } from "./table.js";

/** The worker bundle's source, inlined at build time by scripts/build-web.mjs. */
declare const __KEYWARDEN_WORKER_SOURCE__: string;

const MAX_TEXT_FILE = 1 << 20;
const state: { exportFile: File | undefined } = { exportFile: undefined };

const exportInput = byId<HTMLInputElement>("export-file");
const exportName = byId("export-name");
const checkpointText = byId<HTMLTextAreaElement>("checkpoint-text");
const earlierText = byId<HTMLTextAreaElement>("earlier-text");
const vkeyText = byId<HTMLTextAreaElement>("vkey-text");
const witnessText = byId<HTMLTextAreaElement>("witness-text");
const quorumInput = byId<HTMLInputElement>("quorum");
const headsReceiptText = byId<HTMLTextAreaElement>("heads-receipt-text");
const chainKeyInput = byId<HTMLInputElement>("chain-key-text");
const headsVkeyText = byId<HTMLTextAreaElement>("heads-vkey-text");
const headsWitnessText = byId<HTMLTextAreaElement>("heads-witness-text");
const headsQuorumInput = byId<HTMLInputElement>("heads-quorum");
const verifyButton = byId<HTMLButtonElement>("verify");
const progressBox = byId("progress");
const progressBar = byId<HTMLProgressElement>("progress-bar");
const progressText = byId("progress-text");
const resultBox = byId("result");
const historyBox = byId("history");

function setExport(file: File): void {
  state.exportFile = file;
  exportName.textContent = `${file.name} (${(file.size / 1024).toFixed(0)} KB)`;
  verifyButton.disabled = false;
}

/** Why a text file is not taken: a CR (a text field would silently turn CR LF into LF). */
const CR_REFUSED =
  "has Windows line ends (CR LF), which a signed checkpoint or receipt never has: it was changed after it was signed (e.g. re-saved by an editor). Use the file exactly as the platform sent it.";

async function readSmallText(file: File): Promise<string> {
  if (file.size > MAX_TEXT_FILE) throw new Error("file too large for a checkpoint or key");
  return file.text();
}

/** A checkpoint or receipt file's text; refused when it has a CR. */
async function readNoteFile(file: File): Promise<string> {
  const text = await readSmallText(file);
  // A text field's value turns CR LF into LF, which would hide the change from the verifier.
  if (text.includes("\r")) throw new Error(CR_REFUSED);
  return text;
}

/**
 * Sorts dropped files into their slots by content (the name decides only for a file whose
 * content is nothing else the page knows); says what it did with each.
 */
async function classify(file: File): Promise<string> {
  const head = await file.slice(0, 512).text();
  const name = `"${file.name}"`;
  const takeExport = () => {
    const earlier = state.exportFile?.name;
    setExport(file);
    return earlier === undefined
      ? `${name}: taken as the export.`
      : `${name}: taken as the export, replacing "${earlier}".`;
  };
  if (head.startsWith('{"manifest"') || head.startsWith("seq,ts,")) return takeExport();
  if (file.size <= MAX_TEXT_FILE) {
    const taken = classifyText(name, await readSmallText(file));
    if (taken !== undefined) return taken;
  }
  // Named like an export but not one: the verdict will say what the file is.
  if (/\.(jsonl|csv)$/i.test(file.name)) return takeExport();
  return `${name}: not recognised (not an export, checkpoint, receipt or verifier key) — ignored.`;
}

/** Puts a small dropped text into its field when it is a checkpoint, receipt or key. */
function classifyText(name: string, text: string): string | undefined {
  const replacing = (slot: HTMLTextAreaElement, what: string) =>
    slot.value.trim() === ""
      ? `${name}: taken as ${what}.`
      : `${name}: taken as ${what}, replacing the one entered before.`;
  if (text.includes("\r") && text.includes("\u2014 ")) return `${name} ${CR_REFUSED}`;
  if (isHeadsReceipt(text)) {
    const note =
      headsReceiptText.value.trim() === ""
        ? `${name}: taken as the heads receipt.`
        : `${name}: taken as the heads receipt, replacing the one entered before.`;
    headsReceiptText.value = text;
    return note;
  }
  if (/^[A-Za-z0-9+/]{43}=$/.test(text.trim())) {
    chainKeyInput.value = text.trim();
    return `${name}: taken as your chain key.`;
  }
  // A key whose name signed the heads receipt belongs to the heads log (or its witnesses).
  const keyName = text.trim().split("+")[0] ?? "";
  const signsHeads = keyName !== "" && headsReceiptText.value.includes(`\n\u2014 ${keyName} `);
  if (signsHeads && /^[^+\s]+\+[0-9a-f]{8}\+B/.test(text.trim())) {
    headsWitnessText.value += `${text.trim()}\n`;
    return `${name}: added as a witness key of the heads log.`;
  }
  if (signsHeads && /^[^+\s]+\+[0-9a-f]{8}\+A/.test(text.trim())) {
    headsVkeyText.value = text.trim();
    return `${name}: taken as the heads log's verifier key.`;
  }
  if (text.startsWith(`${RECEIPT_HEADER}\n`)) {
    const note = replacing(earlierText, "the receipt you kept");
    earlierText.value = text;
    return note;
  }
  if (text.includes("\n\n\u2014 ")) {
    if (checkpointText.value.trim() === "") {
      checkpointText.value = text;
      return `${name}: taken as the signed checkpoint.`;
    }
    const note = replacing(earlierText, "the earlier checkpoint");
    earlierText.value = text;
    return note;
  }
  if (/^[^+\s]+\+[0-9a-f]{8}\+B/.test(text.trim())) {
    witnessText.value += `${text.trim()}\n`;
    return `${name}: added as a witness key.`;
  }
  if (/^[^+\s]+\+[0-9a-f]{8}\+A/.test(text.trim())) {
    const note = replacing(vkeyText, "the platform's verifier key");
    vkeyText.value = text.trim();
    return note;
  }
  return undefined;
}

function wireTextFile(inputId: string, target: HTMLTextAreaElement): void {
  const input = byId<HTMLInputElement>(inputId);
  const note = byId(`${inputId}-note`);
  input.addEventListener("change", () => {
    const f = input.files?.[0];
    if (f)
      void readNoteFile(f).then(
        (t) => {
          target.value = t;
          note.textContent = "";
        },
        (err: unknown) => {
          target.value = "";
          note.textContent = `"${f.name}" ${err instanceof Error && err.message === CR_REFUSED ? CR_REFUSED : "could not be read."}`;
        },
      );
  });
}

function showProgress(p: VerifyProgress): void {
  const fraction = p.total === 0 ? 1 : Math.min(1, p.bytes / p.total);
  progressBar.value = p.phase === "verify" ? fraction * 0.7 : 0.7 + fraction * 0.3;
  progressText.textContent =
    p.phase === "verify"
      ? `Checking every entry… ${Math.round(fraction * 100)}%`
      : `Reading your history for display… ${Math.round(fraction * 100)}%`;
}

function startWorker(): Worker | undefined {
  try {
    const url = URL.createObjectURL(
      new Blob([__KEYWARDEN_WORKER_SOURCE__], { type: "text/javascript" }),
    );
    const w = new Worker(url);
    // Revoked only once the worker ended: revoking now would race the worker's script load.
    w.addEventListener("message", () => URL.revokeObjectURL(url), { once: true });
    w.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
    return w;
  } catch {
    return undefined;
  }
}

/** Runs the job in a worker; on the page itself when the browser refuses workers. */
function run(job: VerifyJob): Promise<VerifyReport> {
  const worker = startWorker();
  if (!worker) {
    document.body.dataset.worker = "none";
    return import("./job.js").then(({ runJob }) => runJob(job, showProgress));
  }
  document.body.dataset.worker = "blob";
  return new Promise((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
      const m = ev.data;
      if (m.type === "progress") showProgress(m);
      else {
        worker.terminate();
        if (m.type === "done") resolve(m.report);
        else reject(new Error(m.message));
      }
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      worker.terminate();
      reject(new Error("the verification worker failed"));
    };
    worker.postMessage(job);
  });
}

const memoryBox = byId("heads-memory");
const memoryNote = byId("heads-memory-text");

/** Shows what the page's memory of heads receipts says (memory.ts); hidden when not relevant. */
function showMemory(m: MemoryFinding | undefined): void {
  if (m === undefined) {
    memoryBox.hidden = true;
    delete memoryBox.dataset.memory;
    return;
  }
  memoryBox.hidden = false;
  memoryBox.dataset.memory = m.status;
  memoryNote.textContent = memoryText(m);
  const alarm = m.status === "fork" || m.status === "shrink";
  // A fork or shrink outweighs a valid banner above it: shown in the alarm colour, and announced.
  memoryBox.className = `verdict ${alarm ? "bad" : m.status === "off" || m.status === "reset" ? "warn" : "ok"}`;
  memoryBox.setAttribute("role", alarm ? "alert" : "status");
  if (alarm) document.body.dataset.memory = m.status;
}

byId("heads-forget").addEventListener("click", () => {
  const had = forgetHeads();
  memoryBox.dataset.memory = "forgotten";
  memoryNote.textContent = had
    ? "Forgotten: this page no longer remembers any heads receipt you verified in this browser."
    : "There was nothing to forget: this page remembers no heads receipt in this browser.";
});

async function verify(): Promise<void> {
  const file = state.exportFile;
  if (!file) return;
  verifyButton.disabled = true;
  document.body.dataset.state = "running";
  progressBox.hidden = false;
  resultBox.hidden = true;
  historyBox.hidden = true;
  memoryBox.hidden = true;
  delete document.body.dataset.memory;
  progressBar.value = 0;
  const quorum = quorumInput.value.trim() === "" ? undefined : Number(quorumInput.value);
  const headsQuorum =
    headsQuorumInput.value.trim() === "" ? undefined : Number(headsQuorumInput.value);
  const lines = (t: string) =>
    t
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
  try {
    const report = await run({
      type: "verify",
      file,
      fileName: file.name,
      checkpoint: checkpointText.value,
      earlier: earlierText.value,
      verifierKeys: lines(vkeyText.value),
      witnessKeys: lines(witnessText.value),
      quorum: Number.isSafeInteger(quorum) ? quorum : undefined,
      heads: {
        receipt: headsReceiptText.value,
        chainKey: chainKeyInput.value,
        headsKeys: lines(headsVkeyText.value),
        witnessKeys: lines(headsWitnessText.value),
        quorum: Number.isSafeInteger(headsQuorum) ? headsQuorum : undefined,
      },
    });
    const remembered = rememberHeads(report.heads);
    // A fork or shrink against what this browser saw before fails the verdict itself, not only
    // the memory box below it: a reader of the headline alone must not read "checks out".
    const verdict = verdictWithMemory(report.verdict, remembered?.status);
    renderSummary({ ...report, verdict }, resultBox);
    showMemory(remembered);
    renderHistory(report.rows, report.rowsOmitted);
    historyBox.hidden = false;
    document.body.dataset.verdict = verdict;
    // Screen-reader and keyboard users land on the answer, not at the top of the form.
    resultBox.hidden = false;
    if (document.body.dataset.memory) memoryBox.focus();
    else document.getElementById("verdict")?.focus();
  } catch (err) {
    resultBox.textContent = `The file could not be read: ${err instanceof Error ? err.message : "unknown error"}`;
    document.body.dataset.verdict = "error";
  } finally {
    progressBox.hidden = true;
    resultBox.hidden = false;
    verifyButton.disabled = false;
    document.body.dataset.state = "done";
  }
}

exportInput.addEventListener("change", () => {
  const f = exportInput.files?.[0];
  if (f) setExport(f);
});
wireTextFile("checkpoint-file", checkpointText);
wireTextFile("earlier-file", earlierText);
wireTextFile("heads-receipt-file", headsReceiptText);
verifyButton.addEventListener("click", () => void verify());

const drop = byId("drop");
for (const type of ["dragenter", "dragover"])
  drop.addEventListener(type, (ev) => {
    ev.preventDefault();
    drop.classList.add("over");
  });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (ev) => {
  ev.preventDefault();
  drop.classList.remove("over");
  const files = [...(ev.dataTransfer?.files ?? [])];
  const dropNote = byId("drop-note");
  const notes: string[] = [];
  // Larger files first, so that a key is sorted once the receipt it signed is in place (keys are
  // the smallest files); the notes keep the order the files were dropped in. A file that cannot be
  // classified (unreadable, too large for a key or checkpoint) is named.
  const order = files
    .map((_, i) => i)
    .sort((a, b) => (files[b]?.size ?? 0) - (files[a]?.size ?? 0));
  void order
    .reduce((p, i) => {
      const f = files[i] as File;
      return p.then(() =>
        classify(f).then(
          (n) => {
            notes[i] = n;
          },
          () => {
            notes[i] = `"${f.name}": could not be read — ignored.`;
          },
        ),
      );
    }, Promise.resolve())
    .then(() => {
      dropNote.textContent = notes.join(" ");
    });
});
// Dropping a file anywhere else must not navigate away from the page.
for (const type of ["dragover", "drop"]) window.addEventListener(type, (ev) => ev.preventDefault());
document.body.dataset.state = "ready";
