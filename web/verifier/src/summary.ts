/// <reference lib="dom" />
/** Renders the verdict and the list of checks for a {@link VerifyReport}. */
import type { SignatureFinding } from "./checkpoints.js";
import { el, formatPosix } from "./dom.js";
import type { VerifyReport } from "./engine.js";
import {
  chainProblemText,
  evidenceText,
  evidenceTitle,
  fileKindText,
  headsText,
  logHistoryText,
  manifestSignatureText,
  VERDICT_TEXT,
} from "./explain.js";

type Mark = "ok" | "bad" | "warn" | "info";

function check(mark: Mark, title: string, text: string, extra?: Node): HTMLLIElement {
  const symbol = { ok: "✓", bad: "✗", warn: "!", info: "i" }[mark];
  const li = el(
    "li",
    { class: `check ${mark}`, attrs: { "data-mark": mark } },
    el("span", { class: "mark", text: symbol, attrs: { "aria-hidden": "true" } }),
    el("div", {}, el("strong", { text: title }), el("p", { text })),
  );
  if (extra) li.lastElementChild?.append(extra);
  return li;
}

function signatureList(sigs: readonly SignatureFinding[]): Node | undefined {
  if (sigs.length === 0) return undefined;
  const ul = el("ul", { class: "sigs" });
  for (const s of sigs) {
    let text: string;
    if (s.role === "log")
      text = s.valid ? "platform signature — valid" : "platform signature — INVALID";
    else if (s.role === "witness")
      text = s.valid
        ? `witness cosignature — valid${s.timestamp === undefined ? "" : `, at ${formatPosix(s.timestamp)}`}`
        : "witness cosignature — INVALID";
    else text = "signature by a key you did not supply — not checked";
    ul.append(
      el(
        "li",
        { attrs: { "data-role": s.role } },
        el("code", { text: `${s.name} (key ${s.keyId})` }),
        ` ${text}`,
      ),
    );
  }
  return ul;
}

const EVIDENCE_MARK: Record<string, Mark> = {
  matches: "ok",
  "covers-prefix": "ok",
  "signature-only": "warn",
  "no-key": "warn",
  "bad-key": "warn",
};

const MANIFEST_MARK: Record<"valid" | "invalid" | "no-key" | "bad-key", Mark> = {
  valid: "ok",
  invalid: "bad",
  "no-key": "warn",
  "bad-key": "warn",
};

/** The verdict banner and check list. */
export function renderSummary(report: VerifyReport, into: HTMLElement): void {
  const v = VERDICT_TEXT[report.verdict];
  const tone =
    report.verdict === "valid" || report.verdict === "valid-prefix"
      ? "ok"
      : report.verdict === "valid-unanchored" || report.verdict === "not-checked"
        ? "warn"
        : "bad";
  const size = report.chain.ok ? report.chain.size : report.rows.length + report.rowsOmitted;
  const checks = el("ul", { class: "checks" });
  if (report.chain.ok) {
    const redacted = report.chain.redacted
      ? ` ${report.chain.redacted === 1 ? "1 entry had its" : `${report.chain.redacted} entries had their`} details erased on request (personal-data deletion); ${report.chain.redacted === 1 ? "it still verifies" : "they still verify"}.`
      : "";
    checks.append(
      check(
        "ok",
        `All ${report.chain.size} entries are intact and in order`,
        `Each entry's fingerprint (SHA-256) was recomputed and each entry links to the one before it, back to the first. The file's own summary matches its last entry.${redacted}`,
      ),
    );
  } else if (report.verdict === "not-export") {
    checks.append(check("bad", "What this file is", fileKindText(report.fileKind)));
  } else {
    checks.append(check("bad", "First problem in the file", chainProblemText(report)));
  }
  const signature = report.manifestSignature;
  if (signature && signature.status !== "unsigned")
    checks.append(
      check(
        MANIFEST_MARK[signature.status],
        "The file's summary (its manifest)",
        manifestSignatureText(signature),
        signatureList(signature.signatures),
      ),
    );
  for (const f of report.evidence) {
    const mark = EVIDENCE_MARK[f.status] ?? "bad";
    const time =
      f.timestamp === undefined
        ? ""
        : ` Signed at ${formatPosix(f.timestamp)} (the platform's claim).`;
    checks.append(
      check(mark, evidenceTitle(f), `${evidenceText(f, size)}${time}`, signatureList(f.signatures)),
    );
  }
  if (report.logHistory) {
    const ok = report.logHistory.status === "grew" || report.logHistory.status === "unchanged";
    checks.append(
      check(ok ? "ok" : "bad", "Since your earlier checkpoint", logHistoryText(report.logHistory)),
    );
  }
  if (report.heads) {
    const h = report.heads;
    const mark: Mark =
      h.status === "matches" || h.status === "covers-prefix"
        ? "ok"
        : h.status === "signature-only" || h.status === "no-key"
          ? "warn"
          : "bad";
    const item = check(
      mark,
      "Public heads log (every account's checkpoints)",
      headsText(h),
      signatureList(h.signatures),
    );
    item.dataset.heads = h.status;
    checks.append(item);
  }
  for (const field of report.trimmed)
    checks.append(
      check(
        "info",
        field === "checkpoint"
          ? "The checkpoint you entered"
          : "The earlier checkpoint or receipt you entered",
        "The text had blank lines or spaces around it, or lacked its final line end: they were removed before checking. The signed text itself was not changed.",
      ),
    );
  if (report.evidence.length === 0 && report.heads === undefined)
    checks.append(
      check(
        "warn",
        "No signed checkpoint supplied",
        "Completeness was not checked. A platform could hand you a shorter, internally consistent file. Add the platform's signed checkpoint and verifier key.",
      ),
    );
  const cosigned = report.evidence
    .flatMap((e) => e.signatures)
    .filter((s) => s.role === "witness" && s.valid);
  if (cosigned.length > 0)
    checks.append(
      check(
        "ok",
        "Independent witnesses",
        `${new Set(cosigned.map((s) => s.name)).size} witness(es) cosigned: they saw the same history, so the platform cannot show you one history and others another without being caught.`,
      ),
    );
  into.replaceChildren(
    el(
      "div",
      {
        class: `verdict ${tone}`,
        attrs: { id: "verdict", "data-verdict": report.verdict, tabindex: "-1" },
      },
      el("h2", { text: v.title }),
      el("p", { text: v.body }),
      el("p", {
        class: "meta",
        text: `${report.manifest ? `Account history ${report.manifest.chainId}, ` : ""}${size} entries, ${report.format.toUpperCase()} file, checked in ${(report.elapsedMs / 1000).toFixed(1)} s on this computer.`,
      }),
    ),
    checks,
  );
}
