/**
 * Generates the audit-format conformance vectors in test/vectors/audit/ (docs/audit-format.md,
 * "Conformance vectors"). Deterministic: fixed salts, times and keys, so a re-run rewrites the same
 * files. Run: `npx tsx scripts/gen-audit-vectors.ts` (add `--check` to fail when a file differs).
 *
 * Exports are built here from the spec's rules — RFC 8785 text from `canonicalize`, SHA-256 from
 * node:crypto, CSV quoting written out below — not with the library's exporter, and every expected
 * result is the one the spec prescribes for the mutation, stated beside it. The library's CSV
 * writer is only used to cross-check this file's CSV of valid exports.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import canonicalizeJcs from "canonicalize";
import {
  csvEntryRow,
  csvHead,
  type ExportManifest,
  signManifest,
} from "../src/audit/export/index.js";
import { LocalEd25519Signer } from "../src/audit/transparency/index.js";
import { Secret } from "../src/secret.js";
import { transparencyVectors } from "./gen-audit-vectors-transparency.js";

const OUT = join(import.meta.dirname, "..", "test", "vectors", "audit");
const jcs = (v: unknown): string => {
  const t = (canonicalizeJcs as (v: unknown) => string | undefined)(v);
  if (t === undefined) throw new Error("not JSON");
  return t;
};
const sha = (...parts: Array<Buffer | string>) =>
  createHash("sha256")
    .update(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p))))
    .digest("hex");
const GENESIS = "0".repeat(64);

type Obj = Record<string, unknown>;
interface Built {
  obj: Obj;
  body: string;
  hash: string;
  opening: string | null;
  value: unknown;
}
interface ChainOptions {
  chainId?: string;
  /** Changes entry `seq`'s object before it is encoded (the chain is then re-linked over it). */
  mutate?: (seq: number, obj: Obj) => void;
  /** Replaces entry `seq`'s encoded text (re-linked too: a re-chained, re-hashed export). */
  body?: (seq: number, canonical: string) => string | undefined;
  /** Replaces the payload value text the commitment is computed over (re-committed). */
  valueText?: (seq: number, canonical: string) => string | undefined;
  /** Replaces the whole opening text after commitment (not re-committed). */
  opening?: (seq: number, canonical: string | null) => string | null | undefined;
  erase?: number[];
  payload?: (seq: number) => unknown;
}

function defaultPayload(seq: number): unknown {
  return seq % 2
    ? {
        amount: `0.${seq + 1}`,
        exchange: "binance",
        price: "64250.10",
        side: "buy",
        symbol: "BTC/USDT",
        type: "limit",
      }
    : { name: `p${seq}`, to: { note: 'ünïcødé, "q"' } };
}

function buildChain(n: number, o: ChainOptions = {}): Built[] {
  const chainId = o.chainId ?? "user:alice";
  const out: Built[] = [];
  let prev = GENESIS;
  for (let seq = 0; seq < n; seq++) {
    const saltHex = (seq % 256).toString(16).padStart(2, "0").repeat(32);
    const value = (o.payload ?? defaultPayload)(seq);
    const canonicalValue = jcs(value);
    const valueText = o.valueText?.(seq, canonicalValue) ?? canonicalValue;
    const commitment = sha(Buffer.from(saltHex, "hex"), valueText);
    let opening: string | null = `{"salt":"${saltHex}","value":${valueText}}`;
    if (o.erase?.includes(seq)) opening = null;
    const replaced = o.opening?.(seq, opening);
    if (replaced !== undefined) opening = replaced;
    const obj: Obj = {
      v: 1,
      chainId,
      seq,
      ts: new Date(Date.UTC(2026, 0, 2, 3, 4, 5 + seq, seq % 1000)).toISOString(),
      actor: { id: "host:alice", kind: "host", userId: "alice" },
      action: seq % 2 ? "order.placed" : "parameter.changed",
      payloadCommitment: commitment,
      prevHash: prev,
    };
    o.mutate?.(seq, obj);
    const canonical = jcs(obj);
    const body = o.body?.(seq, canonical) ?? canonical;
    const hash = sha(Buffer.of(0), body);
    out.push({ obj, body, hash, opening, value });
    prev = hash;
  }
  return out;
}

function manifestOf(entries: Built[], chainId = "user:alice", extra: Obj = {}): Obj {
  const last = entries[entries.length - 1];
  return {
    v: 1,
    format: "keywarden.audit.export",
    chainId,
    size: entries.length,
    headHash: last ? last.hash : null,
    ...extra,
  };
}

const jsonlLine = (e: Built) =>
  `{"entry":${e.body},"hash":"${e.hash}","payload":${e.opening ?? "null"}}`;
const jsonlLines = (m: string, es: Built[]) => [`{"manifest":${m}}`, ...es.map(jsonlLine)];

/** RFC 4180 cell as csv-stringify writes it: quoted when it holds `"`, `,`, LF or CR. */
const csvCell = (c: string) => (/[",\n\r]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
const csvRow = (cells: string[]) => cells.map(csvCell).join(",");
const neutral = (c: string) => (/^[=+\-@\t\r]/.test(c) ? `'${c}` : c);
const CSV_HEADER =
  "seq,ts,chain_id,action,actor_kind,actor_user_id,actor_id,payload,entry,hash,opening";

function csvEntryCells(e: Built): string[] {
  const a = (e.obj.actor ?? {}) as Obj;
  const human = [
    String(e.obj.seq),
    String(e.obj.ts),
    String(e.obj.chainId),
    String(e.obj.action),
    String(a.kind),
    String(a.userId),
    String(a.id),
    e.opening === null ? "[redacted]" : jcs(e.value),
  ].map(neutral);
  return [...human, e.body, e.hash, e.opening ?? ""];
}
const csvManifestRow = (m: string) => csvRow(["manifest", "", "", "", "", "", "", "", m, "", ""]);
const csvLines = (m: string, es: Built[]) => [
  CSV_HEADER,
  csvManifestRow(m),
  ...es.map((e) => csvRow(csvEntryCells(e))),
];

type Format = "jsonl" | "csv";
type Expected =
  | { valid: true; chainId: string; size: number; headHash: string | null; redacted: number }
  | { valid: false; reason: string; seq: number; line: number | null };
interface Trusted {
  expected?: { size: number; headHash: string | null };
  manifestKeys?: string[];
  allowUnsignedManifest?: boolean;
}
interface Vector {
  id: string;
  comment: string;
  section: string;
  kind: "export";
  format: Format;
  input: { text: string } | { base64: string };
  trusted: Trusted;
  result: Expected;
}

const vectors: Vector[] = [];
const ids = new Set<string>();
function add(v: Omit<Vector, "kind" | "trusted"> & { trusted?: Trusted }): void {
  if (ids.has(v.id)) throw new Error(`duplicate id ${v.id}`);
  ids.add(v.id);
  vectors.push({ kind: "export", trusted: {}, ...v });
}
const text = (lines: string[]) => ({ text: `${lines.join("\n")}\n` });
/** 1-based line of entry `seq` in `format`. */
const lineOf = (f: Format, seq: number) => seq + (f === "csv" ? 3 : 2);
const manifestLine = (f: Format) => (f === "csv" ? 2 : 1);
const valid = (es: Built[], redacted = 0, chainId = "user:alice"): Expected => ({
  valid: true,
  chainId,
  size: es.length,
  headHash: es.length ? (es[es.length - 1] as Built).hash : null,
  redacted,
});
const bad = (reason: string, seq: number, line: number | null): Expected => ({
  valid: false,
  reason,
  seq,
  line,
});
const linesOf = (f: Format, m: string, es: Built[]) =>
  f === "csv" ? csvLines(m, es) : jsonlLines(m, es);
const FORMATS: Format[] = ["jsonl", "csv"];

/** An export of `es` with its own (correct) manifest, in `f`. */
function exportOf(f: Format, es: Built[], manifest: Obj = manifestOf(es)): string[] {
  return linesOf(f, jcs(manifest), es);
}

// ---------------------------------------------------------------- valid exports, tree sizes
for (const f of FORMATS) {
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33]) {
    const es = buildChain(n);
    add({
      id: `${f}-valid-size-${n}`,
      comment: `a valid export of ${n} entries`,
      section: "§3 §6 §7",
      format: f,
      input: text(exportOf(f, es)),
      result: valid(es),
    });
  }
  const es = buildChain(5, { erase: [1, 3] });
  add({
    id: `${f}-valid-redacted`,
    comment: "erased openings (null / empty cell) verify as redacted",
    section: "§4",
    format: f,
    input: text(exportOf(f, es)),
    result: valid(es, 2),
  });
  const all = buildChain(3, { erase: [0, 1, 2] });
  add({
    id: `${f}-valid-all-redacted`,
    comment: "every opening erased",
    section: "§4",
    format: f,
    input: text(exportOf(f, all)),
    result: valid(all, 3),
  });
  const op = buildChain(2, { chainId: "operator" });
  add({
    id: `${f}-valid-operator-chain`,
    comment: "the operator chain",
    section: "§1",
    format: f,
    input: text(exportOf(f, op, manifestOf(op, "operator"))),
    result: valid(op, 0, "operator"),
  });
  const long = buildChain(2, { chainId: `user:a${"b".repeat(127)}` });
  add({
    id: `${f}-valid-chain-id-max`,
    comment: "a user id of 128 characters",
    section: "§1",
    format: f,
    input: text(exportOf(f, long, manifestOf(long, `user:a${"b".repeat(127)}`))),
    result: { ...valid(long), chainId: `user:a${"b".repeat(127)}` } as Expected,
  });
  const ext = buildChain(2);
  add({
    id: `${f}-valid-manifest-extra-member`,
    comment: "a member a later version adds to the manifest is kept and ignored",
    section: "§6",
    format: f,
    input: text(exportOf(f, ext, manifestOf(ext, "user:alice", { checkpoint: "x" }))),
    result: valid(ext),
  });
}

// Cross-check: this file's CSV of a valid export is the library writer's, byte for byte.
{
  const es = buildChain(5, { erase: [2] });
  const mine = `${csvLines(jcs(manifestOf(es)), es).join("\n")}\n`;
  const lib =
    csvHead(manifestOf(es) as unknown as ExportManifest) +
    es
      .map((e) =>
        csvEntryRow({ seq: e.obj.seq as number, hash: e.hash, body: e.body, payload: e.opening }),
      )
      .join("");
  if (mine !== lib) throw new Error("the generator's CSV differs from the library's writer");
}

// ---------------------------------------------------------------- payload values (JSON edge cases, canonical)
const payloads: Array<[string, string, unknown]> = [
  ["u2028", "U+2028 and U+2029 raw in a string", { s: "a\u2028b\u2029c" }],
  ["emoji", "a non-BMP character raw", { s: "😀" }],
  [
    "noncharacter",
    "non-characters U+FFFE, U+FFFF, U+FDD0 raw (valid Unicode scalars)",
    { s: "\uFFFE\uFFFF\uFDD0" },
  ],
  [
    "controls",
    "control characters escaped as JCS does (\\b \\t \\n \\f \\r, \\u00xx)",
    { s: "\b\t\n\f\r\u0000\u001f\u007f" },
  ],
  ["quote-backslash", "quote and backslash escaped", { s: 'a"b\\c' }],
  ["slash", "a slash unescaped", { s: "a/b" }],
  [
    "numbers",
    "numbers in shortest ECMAScript form",
    { a: 0, b: -1, c: 1.5, d: 1.2345e-10, e: 1e-7, f: 9007199254740991, g: 0.000001, h: 123.456 },
  ],
  ["literals", "true, false, null", { a: true, b: false, c: null }],
  [
    "sort-utf16",
    "members sorted by UTF-16 code units (U+1F600 before U+FB33)",
    { "\uFB33": 1, "😀": 2, a: 3, A: 4, "": 5 },
  ],
  ["empty-containers", "empty object, empty array, empty string", { a: {}, b: [], c: "" }],
  [
    "deep-nesting",
    "the deepest opening allowed: 64 levels (opening, payload, 62 arrays)",
    { a: JSON.parse(`${"[".repeat(62)}${"]".repeat(62)}`) },
  ],
  ["array-value", "a payload that is an array", [1, "two", { three: 3 }]],
  ["string-value", "a payload that is a string", "just text"],
  ["csv-quotes", "commas, quotes and a newline for the CSV quoting", { s: 'a,b"c\nd' }],
  ["formula", "a payload that starts like a formula in its human cell", { "=x": "=1+1" }],
];
for (const f of FORMATS)
  for (const [id, comment, value] of payloads) {
    const es = buildChain(2, { payload: (s) => (s === 1 ? value : defaultPayload(s)) });
    add({
      id: `${f}-valid-payload-${id}`,
      comment,
      section: "§4 JCS",
      format: f,
      input: text(exportOf(f, es)),
      result: valid(es),
    });
  }

// ---------------------------------------------------------------- non-canonical openings, re-committed
const openingForms: Array<[string, string, (t: string) => string]> = [
  ["space", "a space after a colon", (t) => t.replace(":", ": ")],
  ["trailing-space", "a space before the final brace", (t) => `${t.slice(0, -1)} }`],
  ["unsorted", "members not sorted", () => '{"to":{"note":"x"},"name":"p"}'],
  ["duplicate", "a duplicate member name", (t) => t.replace("{", '{"name":"dup",')],
  ["escaped-slash", "an escaped /", () => '{"s":"a\\/b"}'],
  ["escaped-nonascii", "a non-ASCII character as \\u escape", () => '{"s":"\\u00e9"}'],
  ["uppercase-escape", "an uppercase \\u001F escape", () => '{"s":"\\u001F"}'],
  ["long-escape", "\\u0008 where JCS writes \\b", () => '{"s":"\\u0008"}'],
  ["number-1.0", "the number 1.0", () => '{"n":1.0}'],
  ["number-exp", "the number 1E2", () => '{"n":1E2}'],
  ["number-plus-exp", "the number 1e21 written 1e21 (JCS: 1e+21)", () => '{"n":1e21}'],
  ["number-neg-zero", "the number -0", () => '{"n":-0}'],
  ["number-huge", "a number beyond IEEE-754 double (1e400)", () => '{"n":1e400}'],
  ["number-unsafe", "an integer beyond 2^53 (9007199254740993)", () => '{"n":9007199254740993}'],
  [
    "number-unsafe-canonical",
    "an integer beyond 2^53-1 in its JCS form (1e+21)",
    () => '{"n":1e+21}',
  ],
  ["number-2p53", "the integer 2^53 (9007199254740992)", () => '{"n":9007199254740992}'],
  [
    "too-deep",
    "65 levels: opening, payload object, 63 arrays",
    () => `{"a":${"[".repeat(63)}${"]".repeat(63)}}`,
  ],
  ["lone-surrogate", "a lone high surrogate escape", () => '{"s":"\\ud800"}'],
  ["lone-low-surrogate", "a lone low surrogate escape", () => '{"s":"\\udc00"}'],
  ["escaped-u2028", "U+2028 escaped (JCS writes it raw)", () => '{"s":"\\u2028"}'],
  ["newline-in-ws", "a tab as insignificant whitespace", (t) => t.replace(",", ",\t")],
];
for (const f of FORMATS)
  for (const [id, comment, form] of openingForms) {
    const es = buildChain(3, {
      payload: (s) => (s === 1 ? { name: "p", to: { note: "x" } } : defaultPayload(s)),
      valueText: (s, t) => (s === 1 ? form(t) : undefined),
    });
    // In CSV the human payload cell is computed from the verified opening; write what a tool would.
    add({
      id: `${f}-opening-noncanonical-${id}`,
      comment: `opening value re-committed but not canonical: ${comment}`,
      section: "§4 §6",
      format: f,
      input: text(
        f === "csv"
          ? csvWithHumanPayload(es, 1, form('{"name":"p","to":{"note":"x"}}'))
          : exportOf(f, es),
      ),
      result: bad("malformed", 1, lineOf(f, 1)),
    });
  }
/** The CSV export of `es` with the human payload cell of entry `seq` written as `payloadCell`. */
function csvWithHumanPayload(es: Built[], seq: number, payloadCell: string): string[] {
  const rows = [CSV_HEADER, csvManifestRow(jcs(manifestOf(es)))];
  for (const [i, e] of es.entries()) {
    const cells = csvEntryCells(i === seq ? { ...e, value: null } : e);
    if (i === seq) cells[7] = neutral(payloadCell);
    rows.push(csvRow(cells));
  }
  return rows;
}

// opening layout / shape
const openingShapes: Array<[string, string, (salt: string, v: string) => string]> = [
  [
    "extra-member",
    "an extra member beside salt and value",
    (s, v) => `{"salt":"${s}","value":${v},"x":1}`,
  ],
  [
    "salt-uppercase",
    "the salt in uppercase hex",
    (s, v) => `{"salt":"${s.toUpperCase()}","value":${v}}`,
  ],
  ["salt-short", "a salt of 31 bytes", (s, v) => `{"salt":"${s.slice(2)}","value":${v}}`],
  ["no-value", "no value member", (s) => `{"salt":"${s}"}`],
  ["not-object", "an opening that is a string", () => '"opening"'],
  ["members-swapped", "value before salt", (s, v) => `{"value":${v},"salt":"${s}"}`],
  ["space-outer", "a space inside the outer object", (s, v) => `{ "salt":"${s}","value":${v}}`],
];
for (const f of FORMATS)
  for (const [id, comment, shape] of openingShapes) {
    const es = buildChain(3, {
      payload: () => ({ k: 1 }),
      opening: (s, t) =>
        s === 1 && t ? shape("ab".repeat(32), t.slice(t.indexOf(',"value":') + 9, -1)) : undefined,
    });
    add({
      id: `${f}-opening-${id}`,
      comment: `malformed opening: ${comment}`,
      section: "§4",
      format: f,
      input: text(exportOf(f, es)),
      result: bad("malformed", 1, lineOf(f, 1)),
    });
  }

// ---------------------------------------------------------------- payload mismatch
for (const f of FORMATS) {
  const es = buildChain(3, {
    opening: (s, t) => (s === 2 && t ? t.replace('"p2"', '"p9"') : undefined),
  });
  add({
    id: `${f}-payload-mismatch-value`,
    comment: "a canonical opening whose value differs from the committed one",
    section: "§3.6",
    format: f,
    input: text(
      f === "csv"
        ? csvWithHumanPayload(es, 2, '{"name":"p9","to":{"note":"ünïcødé, \\"q\\""}}')
        : exportOf(f, es),
    ),
    result: bad("payload-mismatch", 2, lineOf(f, 2)),
  });
  const es2 = buildChain(3, {
    opening: (s, t) => (s === 0 && t ? t.replace("0000", "0001") : undefined),
  });
  add({
    id: `${f}-payload-mismatch-salt`,
    comment: "a canonical opening with another salt",
    section: "§3.6",
    format: f,
    input: text(exportOf(f, es2)),
    result: bad("payload-mismatch", 0, lineOf(f, 0)),
  });
}

// ---------------------------------------------------------------- entry: not canonical or not valid (re-linked)
const entryForms: Array<[string, string, (t: string) => string]> = [
  ["space", "a space after a colon", (t) => t.replace(":", ": ")],
  [
    "unsorted",
    "members out of order",
    (t) => {
      const o = JSON.parse(t);
      const { v, ...rest } = o;
      return JSON.stringify({ v, ...rest });
    },
  ],
  ["duplicate-member", "a duplicate member", (t) => t.replace("{", '{"action":"order.placed",')],
  [
    "escaped-slash",
    "an escaped / in chainId-free text",
    (t) => t.replace('"host:alice"', '"host:alice\\/x"'),
  ],
  ["seq-string", "seq as a string", (t) => t.replace(/"seq":(\d+)/, '"seq":"$1"')],
  ["seq-float", "seq written 1.0", (t) => t.replace(/"seq":(\d+)/, '"seq":$1.0')],
  ["seq-leading-zero", "seq written 01", (t) => t.replace(/"seq":(\d+)/, '"seq":0$1')],
  ["v-2", "v is 2", (t) => t.replace('"v":1', '"v":2')],
  ["v-string", 'v is "1"', (t) => t.replace('"v":1', '"v":"1"')],
  ["extra-member", "an unknown member", (t) => t.replace('"v":1}', '"v":1,"x":0}')],
  ["missing-action", "no action member", (t) => t.replace(/"action":"[^"]*",/, "")],
  ["ts-no-millis", "ts without milliseconds", (t) => t.replace(/\.\d{3}Z/, "Z")],
  ["ts-feb-30", "ts on 30 February", (t) => t.replace(/"ts":"2026-01-02/, '"ts":"2026-02-30')],
  ["ts-offset", "ts with +00:00 instead of Z", (t) => t.replace(/Z"/, '+00:00"')],
  ["ts-lowercase-z", "ts ending in z", (t) => t.replace(/Z"/, 'z"')],
  [
    "actor-kind",
    "actor kind not in the closed set",
    (t) => t.replace('"kind":"host"', '"kind":"robot"'),
  ],
  [
    "actor-extra",
    "actor with an extra member",
    (t) => t.replace('"userId":"alice"}', '"userId":"alice","x":1}'),
  ],
  ["actor-id-empty", "actor id empty", (t) => t.replace('"id":"host:alice"', '"id":""')],
  [
    "actor-id-control",
    "actor id with U+007F",
    (t) => t.replace('"id":"host:alice"', '"id":"host:\u007f"'),
  ],
  [
    "actor-user-bad",
    "actor userId not matching the pattern",
    (t) => t.replace('"userId":"alice"', '"userId":"-alice"'),
  ],
  [
    "action-uppercase",
    "action with an uppercase letter",
    (t) => t.replace(/"action":"[^"]*"/, '"action":"Order.placed"'),
  ],
  [
    "action-one-part",
    "action without a dot",
    (t) => t.replace(/"action":"[^"]*"/, '"action":"order"'),
  ],
  [
    "action-too-long",
    "action of 65 characters",
    (t) => t.replace(/"action":"[^"]*"/, `"action":"a.${"b".repeat(63)}"`),
  ],
  [
    "commitment-uppercase",
    "payloadCommitment in uppercase hex",
    (t) =>
      t.replace(
        /"payloadCommitment":"([0-9a-f]{64})"/,
        (_, h: string) => `"payloadCommitment":"${h.toUpperCase()}"`,
      ),
  ],
  [
    "commitment-short",
    "payloadCommitment of 63 characters",
    (t) => t.replace(/"payloadCommitment":"[0-9a-f]/, '"payloadCommitment":"'),
  ],
  [
    "prevhash-uppercase",
    "prevHash in uppercase hex",
    (t) =>
      t.replace(/"prevHash":"([0-9a-f]{64})"/, (_, h: string) => `"prevHash":"${h.toUpperCase()}"`),
  ],
  [
    "chainid-bad",
    "chainId that is no chain id",
    (t) => t.replace('"chainId":"user:alice"', '"chainId":"user:"'),
  ],
  ["not-object", "an entry that is an array", () => "[1]"],
  [
    "unicode-escape",
    "a \\u escape for an ASCII letter",
    (t) => t.replace('"host:alice"', '"host:\\u0061lice"'),
  ],
];
for (const f of FORMATS)
  for (const [id, comment, form] of entryForms) {
    const es = buildChain(3, { body: (s, t) => (s === 1 ? form(t) : undefined) });
    add({
      id: `${f}-entry-${id}`,
      comment: `entry 1 re-hashed and re-linked but invalid: ${comment}`,
      section: "§2 §2.1",
      format: f,
      input: text(exportOf(f, es)),
      result: bad("malformed", 1, lineOf(f, 1)),
    });
  }

// ---------------------------------------------------------------- chain failures (§3 order)
for (const f of FORMATS) {
  const es = buildChain(4);
  const m = jcs(manifestOf(es));
  const L = (list: Built[]) => text(linesOf(f, m, list));
  const [e0, e1, e2, e3] = es as [Built, Built, Built, Built];
  add({
    id: `${f}-hash-mismatch`,
    comment: "the hash beside entry 2 is wrong",
    section: "§3.4",
    format: f,
    input: L([e0, e1, { ...e2, hash: e3.hash }, e3]),
    result: bad("hash-mismatch", 2, lineOf(f, 2)),
  });
  add({
    id: `${f}-duplicate`,
    comment: "entry 1 repeated",
    section: "§3.3",
    format: f,
    input: L([e0, e1, e1, e2, e3]),
    result: bad("duplicate", 2, lineOf(f, 2)),
  });
  add({
    id: `${f}-reorder-swap`,
    comment: "entries 1 and 2 swapped",
    section: "§3.3",
    format: f,
    input: L([e0, e2, e1, e3]),
    result: bad("reorder", 1, lineOf(f, 1)),
  });
  add({
    id: `${f}-reorder-back`,
    comment: "entry 0 after entry 2",
    section: "§3.3",
    format: f,
    input: L([e0, e1, e2, e0]),
    result: bad("reorder", 3, lineOf(f, 3)),
  });
  add({
    id: `${f}-gap`,
    comment: "entry 1 missing",
    section: "§3.3",
    format: f,
    input: L([e0, e2, e3]),
    result: bad("gap", 1, lineOf(f, 1)),
  });
  add({
    id: `${f}-gap-first`,
    comment: "entry 0 missing",
    section: "§3.3",
    format: f,
    input: L([e1, e2, e3]),
    result: bad("gap", 0, lineOf(f, 0)),
  });
  const other = buildChain(4, { chainId: "user:bob" });
  add({
    id: `${f}-foreign-chain`,
    comment: "entry 2 of another chain",
    section: "§3.2",
    format: f,
    input: L([e0, e1, other[2] as Built, e3]),
    result: bad("foreign-chain", 2, lineOf(f, 2)),
  });
  const relinked = buildChain(4, {
    mutate: (s, o) => {
      if (s === 2) o.prevHash = "1".repeat(64);
    },
  });
  add({
    id: `${f}-broken-link`,
    comment: "entry 2's prevHash is not entry 1's hash (hash beside it recomputed)",
    section: "§3.5",
    format: f,
    input: text(exportOf(f, relinked)),
    result: bad("broken-link", 2, lineOf(f, 2)),
  });
  const genesis = buildChain(2, {
    mutate: (s, o) => {
      if (s === 0) o.prevHash = "f".repeat(64);
    },
  });
  add({
    id: `${f}-broken-link-genesis`,
    comment: "entry 0's prevHash is not the genesis value",
    section: "§2.3",
    format: f,
    input: text(exportOf(f, genesis)),
    result: bad("broken-link", 0, lineOf(f, 0)),
  });
  add({
    id: `${f}-truncated-manifest`,
    comment: "the manifest promises 4 entries, 3 follow",
    section: "§6",
    format: f,
    input: L([e0, e1, e2]),
    result: bad("truncated", 3, null),
  });
  add({
    id: `${f}-truncated-all`,
    comment: "the manifest promises 4 entries, none follow",
    section: "§6",
    format: f,
    input: L([]),
    result: bad("truncated", 0, null),
  });
  const wrongHead = jcs(manifestOf(es, "user:alice", { headHash: e2.hash }));
  add({
    id: `${f}-head-mismatch-manifest`,
    comment: "the manifest's head is not entry 3's hash",
    section: "§6",
    format: f,
    input: text(linesOf(f, wrongHead, es)),
    result: bad("head-mismatch", 3, null),
  });
  add({
    id: `${f}-foreign-manifest`,
    comment: "the manifest names another chain",
    section: "§6",
    format: f,
    input: text(linesOf(f, jcs(manifestOf(es, "user:bob")), es)),
    result: bad("foreign-chain", 0, lineOf(f, 0)),
  });
  const small = jcs(manifestOf(es, "user:alice", { size: 3, headHash: e2.hash }));
  add({
    id: `${f}-beyond-manifest`,
    comment: "an entry with seq >= the manifest's size",
    section: "§6",
    format: f,
    input: text(linesOf(f, small, es)),
    result: bad("malformed", 3, lineOf(f, 3)),
  });
  // truncation against a remembered head (a checkpoint kept by the user)
  const cut = buildChain(3);
  const e4 = buildChain(5);
  add({
    id: `${f}-remembered-truncated`,
    comment: "consistently cut and re-exported: the remembered head of size 5 catches it",
    section: "§3.7 §14",
    format: f,
    input: text(exportOf(f, cut)),
    trusted: { expected: { size: 5, headHash: (e4[4] as Built).hash } },
    result: bad("truncated", 3, null),
  });
  add({
    id: `${f}-remembered-head-mismatch`,
    comment: "a remembered head of size 2 that entry 1 does not hash to (rewritten history)",
    section: "§3.7",
    format: f,
    input: text(exportOf(f, cut)),
    trusted: { expected: { size: 2, headHash: "ab".repeat(32) } },
    result: bad("head-mismatch", 1, lineOf(f, 1)),
  });
  add({
    id: `${f}-remembered-grown`,
    comment: "the remembered head of size 2 is a prefix of this export",
    section: "§3.7",
    format: f,
    input: text(exportOf(f, cut)),
    trusted: { expected: { size: 2, headHash: (cut[1] as Built).hash } },
    result: valid(cut),
  });
  add({
    id: `${f}-remembered-same`,
    comment: "the remembered head equals the export's head",
    section: "§3.7",
    format: f,
    input: text(exportOf(f, cut)),
    trusted: { expected: { size: 3, headHash: (cut[2] as Built).hash } },
    result: valid(cut),
  });
  add({
    id: `${f}-remembered-empty`,
    comment: "a remembered empty head accepts any export",
    section: "§3.7",
    format: f,
    input: text(exportOf(f, cut)),
    trusted: { expected: { size: 0, headHash: null } },
    result: valid(cut),
  });
  const rechained = buildChain(3, { payload: (s) => ({ rewritten: s }) });
  add({
    id: `${f}-remembered-rechained`,
    comment:
      "a re-chain from genesis of the same size: the remembered head catches it at its last entry",
    section: "§3.7",
    format: f,
    input: text(exportOf(f, rechained)),
    trusted: { expected: { size: 3, headHash: (cut[2] as Built).hash } },
    result: bad("head-mismatch", 2, lineOf(f, 2)),
  });
}

// ---------------------------------------------------------------- manifests
const manifestForms: Array<[string, string, (es: Built[]) => string]> = [
  ["space", "a space in the manifest", (es) => jcs(manifestOf(es)).replace(":", ": ")],
  ["unsorted", "manifest members unsorted", (es) => JSON.stringify(manifestOf(es))],
  [
    "format-wrong",
    "another format string",
    (es) => jcs(manifestOf(es, "user:alice", { format: "other" })),
  ],
  ["v-2", "manifest v 2", (es) => jcs(manifestOf(es, "user:alice", { v: 2 }))],
  ["size-negative", "size -1", (es) => jcs(manifestOf(es, "user:alice", { size: -1 }))],
  ["size-string", "size as a string", (es) => jcs(manifestOf(es, "user:alice", { size: "2" }))],
  [
    "head-null",
    "headHash null with entries",
    (es) => jcs(manifestOf(es, "user:alice", { headHash: null })),
  ],
  [
    "head-uppercase",
    "headHash in uppercase",
    (es) => jcs(manifestOf(es, "user:alice", { headHash: (es[1] as Built).hash.toUpperCase() })),
  ],
  ["chainid-bad", "chainId that is no chain id", (es) => jcs(manifestOf(es, "bob"))],
  [
    "missing-size",
    "no size member",
    (es) => {
      const m = manifestOf(es);
      delete m.size;
      return jcs(m);
    },
  ],
  [
    "duplicate-member",
    "a duplicate member",
    (es) => jcs(manifestOf(es)).replace("{", '{"chainId":"user:bob",'),
  ],
  [
    "escaped-slash",
    "an escaped / in an extra member",
    (es) => jcs(manifestOf(es, "user:alice", { note: "a/b" })).replace("a/b", "a\\/b"),
  ],
];
for (const f of FORMATS) {
  const es = buildChain(2);
  for (const [id, comment, form] of manifestForms)
    add({
      id: `${f}-manifest-${id}`,
      comment: `bad manifest: ${comment}`,
      section: "§6",
      format: f,
      input: text(linesOf(f, form(es), es)),
      result: bad("malformed", 0, manifestLine(f)),
    });
  const lines = exportOf(f, es);
  const mAt = manifestLine(f) - 1;
  add({
    id: `${f}-manifest-missing`,
    comment: "no manifest line",
    section: "§6",
    format: f,
    input: text(lines.filter((_, i) => i !== mAt)),
    result: bad("malformed", 0, manifestLine(f)),
  });
  add({
    id: `${f}-manifest-twice`,
    comment: "the manifest repeated after the entries",
    section: "§6",
    format: f,
    input: text([...lines, lines[mAt] as string]),
    result: bad("malformed", 2, lines.length + 1),
  });
  add({
    id: `${f}-manifest-after-entry`,
    comment: "the manifest after the first entry",
    section: "§6",
    format: f,
    input: text([
      ...lines.slice(0, mAt),
      lines[mAt + 1] as string,
      lines[mAt] as string,
      ...lines.slice(mAt + 2),
    ]),
    result: bad("malformed", 0, manifestLine(f)),
  });
  const empty = buildChain(0);
  add({
    id: `${f}-manifest-empty-with-head`,
    comment: "size 0 with a headHash",
    section: "§6",
    format: f,
    input: text(linesOf(f, jcs(manifestOf(empty, "user:alice", { headHash: "0".repeat(64) })), [])),
    result: bad("malformed", 0, manifestLine(f)),
  });
}

// ---------------------------------------------------------------- line syntax (§6, §7)
for (const f of FORMATS) {
  const es = buildChain(3);
  const lines = exportOf(f, es);
  const body = `${lines.join("\n")}\n`;
  const last = lines.length;
  add({
    id: `${f}-no-final-lf`,
    comment: "the last line has no final LF",
    section: "§6",
    format: f,
    input: { text: body.slice(0, -1) },
    result: bad("malformed", 2, last),
  });
  add({
    id: `${f}-extra-final-lf`,
    comment: "an empty line at the end",
    section: "§6",
    format: f,
    input: { text: `${body}\n` },
    result: bad("malformed", 3, last + 1),
  });
  add({
    id: `${f}-empty-line`,
    comment: "an empty line between two entries",
    section: "§6",
    format: f,
    input: text([...lines.slice(0, last - 1), "", lines[last - 1] as string]),
    result: bad("malformed", 2, last),
  });
  add({
    id: `${f}-bom`,
    comment: "a UTF-8 BOM before the first line",
    section: "§6",
    format: f,
    input: { text: `\uFEFF${body}` },
    result: bad("malformed", 0, 1),
  });
  add({
    id: `${f}-crlf`,
    comment: "CR LF line ends",
    section: "§6",
    format: f,
    input: { text: body.replaceAll("\n", "\r\n") },
    result: bad("malformed", 0, 1),
  });
  add({
    id: `${f}-cr-last`,
    comment: "a CR before the last LF only",
    section: "§6",
    format: f,
    input: { text: `${body.slice(0, -1)}\r\n` },
    result: bad("malformed", 2, last),
  });
  add({
    id: `${f}-trailing-space`,
    comment: "a space at the end of an entry line",
    section: "§6 §7",
    format: f,
    input: text([...lines.slice(0, last - 1), `${lines[last - 1]} `]),
    result: bad("malformed", 2, last),
  });
  add({
    id: `${f}-cut-mid-line`,
    comment: "the file cut in the middle of its last line",
    section: "§6",
    format: f,
    input: { text: body.slice(0, body.length - 20) },
    result: bad("malformed", 2, last),
  });
  add({
    id: `${f}-cut-at-line`,
    comment: "the file cut after a whole line: the manifest catches it",
    section: "§6",
    format: f,
    input: text(lines.slice(0, last - 1)),
    result: bad("truncated", 2, null),
  });
  add({
    id: `${f}-empty-file`,
    comment: "an empty file has no manifest",
    section: "§6",
    format: f,
    input: { text: "" },
    result: bad("malformed", 0, null),
  });
  const bytes = Buffer.from(body);
  const at = bytes.indexOf("ünïcødé");
  const invalid = (name: string, comment: string, seq: Buffer) => {
    const b = Buffer.concat([bytes.subarray(0, at), seq, bytes.subarray(at + 2)]);
    const lineNo = bytes.subarray(0, at).toString().split("\n").length;
    add({
      id: `${f}-utf8-${name}`,
      comment,
      section: "§6",
      format: f,
      input: { base64: b.toString("base64") },
      result: bad("malformed", lineNo - manifestLine(f) - 1, lineNo),
    });
  };
  invalid("overlong", "an overlong UTF-8 encoding (C0 AF)", Buffer.from([0xc0, 0xaf]));
  invalid("surrogate", "a UTF-8-encoded surrogate (ED A0 80)", Buffer.from([0xed, 0xa0, 0x80]));
  invalid("lone-continuation", "a lone continuation byte (80)", Buffer.from([0x80, 0x41]));
  invalid("ff", "the byte FF", Buffer.from([0xff, 0x41]));
  invalid("truncated-seq", "a truncated 3-byte sequence (E2 82)", Buffer.from([0xe2, 0x82]));
  add({
    id: `${f}-random-bytes`,
    comment: "bytes that are not text",
    section: "§6",
    format: f,
    input: {
      base64: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).toString("base64"),
    },
    result: bad("malformed", 0, 1),
  });
  add({
    id: `${f}-checkpoint-as-export`,
    comment: "a checkpoint note given as the export",
    section: "§6 §11",
    format: f,
    input: {
      text: "audit.example.com/keywarden/user:alice\n5\nMP/xhW/C8sSRcB50a819mrJRsoR/RFSq1jnQOJR2b+Q=\n",
    },
    result: bad("malformed", 0, 1),
  });
}
// JSON Lines wrapper
{
  const f: Format = "jsonl";
  const es = buildChain(3);
  const m = `{"manifest":${jcs(manifestOf(es))}}`;
  const wrap: Array<[string, string, (e: Built) => string]> = [
    [
      "hash-uppercase",
      "the hash member in uppercase hex",
      (e) => jsonlLine(e).replace(e.hash, e.hash.toUpperCase()),
    ],
    ["no-payload", "no payload member", (e) => `{"entry":${e.body},"hash":"${e.hash}"}`],
    [
      "payload-first",
      "payload member before entry",
      (e) => `{"payload":${e.opening},"entry":${e.body},"hash":"${e.hash}"}`,
    ],
    [
      "extra-member",
      "an extra member",
      (e) => `{"entry":${e.body},"hash":"${e.hash}","payload":${e.opening},"x":1}`,
    ],
    [
      "space",
      "a space after the first colon",
      (e) => jsonlLine(e).replace('{"entry":', '{"entry": '),
    ],
    [
      "payload-string",
      "payload as a JSON string holding the opening",
      (e) => `{"entry":${e.body},"hash":"${e.hash}","payload":${JSON.stringify(e.opening)}}`,
    ],
    [
      "payload-false",
      "payload false instead of null",
      (e) => `{"entry":${e.body},"hash":"${e.hash}","payload":false}`,
    ],
    [
      "hash-short",
      "a hash of 63 characters",
      (e) => jsonlLine(e).replace(`"hash":"${e.hash}"`, `"hash":"${e.hash.slice(1)}"`),
    ],
    [
      "entry-string",
      "the entry as a JSON string",
      (e) => `{"entry":${JSON.stringify(e.body)},"hash":"${e.hash}","payload":${e.opening}}`,
    ],
    ["not-json", "a line that is not JSON", () => "entry 1"],
    ["array", "a JSON array line", () => "[]"],
    ["manifest-wrapper-extra", 'a line {"manifest":…} in the entry position', () => m],
  ];
  for (const [id, comment, form] of wrap) {
    const lines = [m, jsonlLine(es[0] as Built), form(es[1] as Built), jsonlLine(es[2] as Built)];
    add({
      id: `jsonl-line-${id}`,
      comment: `entry line 1: ${comment}`,
      section: "§6",
      format: f,
      input: text(lines),
      result: bad("malformed", 1, 3),
    });
  }
  add({
    id: "jsonl-manifest-wrapper-extra",
    comment: "a member beside manifest in line 1",
    section: "§6",
    format: f,
    input: text([`{"manifest":${jcs(manifestOf(es))},"x":1}`, ...es.map(jsonlLine)]),
    result: bad("malformed", 0, 1),
  });
  add({
    id: "jsonl-as-csv",
    comment: "a JSON Lines export read as CSV",
    section: "§7",
    format: "csv",
    input: text(jsonlLines(jcs(manifestOf(es)), es)),
    result: bad("malformed", 0, 1),
  });
  add({
    id: "csv-as-jsonl",
    comment: "a CSV export read as JSON Lines",
    section: "§6",
    format: "jsonl",
    input: text(csvLines(jcs(manifestOf(es)), es)),
    result: bad("malformed", 0, 1),
  });
}
// CSV quoting and cells
{
  const f: Format = "csv";
  const es = buildChain(3, { payload: (s) => (s === 1 ? { "=x": "a,b" } : defaultPayload(s)) });
  const m = jcs(manifestOf(es));
  const rowOf = (cells: string[]) => cells.map(csvCell).join(",");
  const cellsOf = (e: Built) => csvEntryCells(e);
  const forms: Array<[string, string, (e: Built) => string]> = [
    [
      "quoted-plain-cell",
      'a cell quoted that needs no quotes (seq as "1")',
      (e) => {
        const c = cellsOf(e);
        return [`"${c[0]}"`, ...c.slice(1).map(csvCell)].join(",");
      },
    ],
    [
      "quoted-hash",
      "the hash cell quoted",
      (e) => {
        const c = cellsOf(e).map(csvCell);
        c[9] = `"${c[9]}"`;
        return c.join(",");
      },
    ],
    ["space-after-comma", "a space after a delimiter", (e) => rowOf(cellsOf(e)).replace(",", ", ")],
    [
      "newline-in-cell",
      "a record spread over two lines (LF in a quoted cell)",
      (e) => {
        const c = cellsOf(e);
        c[7] = `${c[7]}\nx`;
        return rowOf(c);
      },
    ],
    ["unbalanced-quote", "an unbalanced quote", (e) => `${rowOf(cellsOf(e))}"`],
    ["extra-column", "12 columns", (e) => `${rowOf(cellsOf(e))},`],
    ["missing-column", "10 columns", (e) => rowOf(cellsOf(e).slice(0, 10))],
    [
      "human-seq",
      "human seq cell differs",
      (e) => {
        const c = cellsOf(e);
        c[0] = "7";
        return rowOf(c);
      },
    ],
    [
      "human-ts",
      "human ts cell differs",
      (e) => {
        const c = cellsOf(e);
        c[1] = "2026-01-01T00:00:00.000Z";
        return rowOf(c);
      },
    ],
    [
      "human-action",
      "human action cell differs",
      (e) => {
        const c = cellsOf(e);
        c[3] = "order.canceled";
        return rowOf(c);
      },
    ],
    [
      "human-actor",
      "human actor id cell differs",
      (e) => {
        const c = cellsOf(e);
        c[6] = "host:mallory";
        return rowOf(c);
      },
    ],
    [
      "human-payload",
      "human payload cell differs",
      (e) => {
        const c = cellsOf(e);
        c[7] = '\'{"=x":"a,b,c"}';
        return rowOf(c);
      },
    ],
    [
      "human-unneutralized",
      "a formula cell without its ' prefix",
      (e) => {
        const c = cellsOf(e);
        c[7] = (c[7] as string).slice(1);
        return rowOf(c);
      },
    ],
    [
      "human-redacted",
      "payload cell [redacted] beside an opening",
      (e) => {
        const c = cellsOf(e);
        c[7] = "[redacted]";
        return rowOf(c);
      },
    ],
    [
      "hash-uppercase",
      "the hash cell in uppercase",
      (e) => {
        const c = cellsOf(e);
        c[9] = (c[9] as string).toUpperCase();
        return rowOf(c);
      },
    ],
    [
      "doubled-quote-wrong",
      "a quote inside a quoted cell not doubled",
      (e) => rowOf(cellsOf(e)).replace('""action""', '"action"'),
    ],
  ];
  for (const [id, comment, form] of forms) {
    const lines = [
      CSV_HEADER,
      csvManifestRow(m),
      csvRow(cellsOf(es[0] as Built)),
      form(es[1] as Built),
      csvRow(cellsOf(es[2] as Built)),
    ];
    add({
      id: `csv-row-${id}`,
      comment: `entry row 1: ${comment}`,
      section: "§7",
      format: f,
      input: text(lines),
      result: bad("malformed", 1, 4),
    });
  }
  const ok = [CSV_HEADER, csvManifestRow(m), ...es.map((e) => csvRow(cellsOf(e)))];
  add({
    id: "csv-valid-formula-cells",
    comment: "a payload cell neutralized with ' and quoted for its comma",
    section: "§7",
    format: f,
    input: text(ok),
    result: valid(es),
  });
  add({
    id: "csv-header-case",
    comment: "the header with an uppercase name",
    section: "§7",
    format: f,
    input: text([`SEQ${CSV_HEADER.slice(3)}`, ...ok.slice(1)]),
    result: bad("malformed", 0, 1),
  });
  add({
    id: "csv-header-quoted",
    comment: "the header with a quoted name",
    section: "§7",
    format: f,
    input: text([`"seq"${CSV_HEADER.slice(3)}`, ...ok.slice(1)]),
    result: bad("malformed", 0, 1),
  });
  add({
    id: "csv-header-missing",
    comment: "no header row",
    section: "§7",
    format: f,
    input: text(ok.slice(1)),
    result: bad("malformed", 0, 1),
  });
  add({
    id: "csv-manifest-cell-filled",
    comment: "a filled cell in the manifest row",
    section: "§7",
    format: f,
    input: text([
      CSV_HEADER,
      csvRow(["manifest", "x", "", "", "", "", "", "", m, "", ""]),
      ...ok.slice(2),
    ]),
    result: bad("malformed", 0, 2),
  });
  add({
    id: "csv-manifest-wrapped",
    comment: 'the manifest cell with the {"manifest":…} wrapper',
    section: "§7",
    format: f,
    input: text([CSV_HEADER, csvManifestRow(`{"manifest":${m}}`), ...ok.slice(2)]),
    result: bad("malformed", 0, 2),
  });
  add({
    id: "csv-manifest-quoted-marker",
    comment: "the manifest marker quoted",
    section: "§7",
    format: f,
    input: text([CSV_HEADER, `"manifest"${csvManifestRow(m).slice(8)}`, ...ok.slice(2)]),
    result: bad("malformed", 0, 2),
  });
}

// ---------------------------------------------------------------- line length (§6, §7)
// A line is at most MAX_LINE bytes without its LF. Entry 1 of a 3-entry chain carries a payload
// string padded so that its line has an exact byte length. The data is checked in as it is
// (about 1 MiB per file): the vectors stay plain input bytes a third party reads without an
// expansion rule of ours, and git stores such repetitive text compressed to a few KiB.
const MAX_LINE = 1024 * 1024;

/** The export of a 3-entry chain whose entry 1 line is `bytes` long (payload `{"note":fill}`). */
function exportWithLineOf(
  f: Format,
  bytes: number,
  unit: string,
): { lines: string[]; at: number; result: Expected } {
  const chain = (fill: string) =>
    buildChain(3, { payload: (seq) => (seq === 1 ? { note: fill } : defaultPayload(seq)) });
  const build = (fill: string) => exportOf(f, chain(fill));
  const lineBytes = (lines: string[]) => Buffer.byteLength(lines[lineOf(f, 1) - 1] as string);
  const base = lineBytes(build(""));
  // Each character of the note appears once in a JSON Lines entry line, twice in a CSV row (the
  // human payload column and the opening): pad with `unit`, then finish with ASCII.
  const per = f === "csv" ? 2 : 1;
  const unitBytes = Buffer.byteLength(unit) * per;
  const units = Math.floor((bytes - base) / unitBytes);
  const rest = (bytes - base - units * unitBytes) / per;
  const fill = unit.repeat(units) + "a".repeat(rest);
  const lines = build(fill);
  const got = lineBytes(lines);
  if (got !== bytes) throw new Error(`line length ${got}, wanted ${bytes}`);
  return { lines, at: lineOf(f, 1), result: valid(chain(fill)) };
}

for (const f of FORMATS) {
  const ascii = exportWithLineOf(f, MAX_LINE, "a");
  add({
    id: `${f}-line-at-limit`,
    comment: "an entry line of exactly 1,048,576 bytes (the limit) is accepted",
    section: f === "csv" ? "§6 §7" : "§6",
    format: f,
    input: text(ascii.lines),
    result: ascii.result,
  });
  // A CSV row carries each note character twice, so its length moves in steps of 2: this row's
  // shape cannot be 1 byte over; 2 bytes over is the nearest (JSON Lines: exactly 1 over).
  const overBy = f === "csv" ? 2 : 1;
  const over = exportWithLineOf(f, MAX_LINE + overBy, "a");
  add({
    id: `${f}-line-over-limit`,
    comment:
      f === "csv"
        ? "an entry row of 1,048,578 bytes (over the limit; a row of this shape has even length) is malformed at that line"
        : "an entry line of 1,048,577 bytes (one over the limit) is malformed at that line",
    section: f === "csv" ? "§6 §7" : "§6",
    format: f,
    input: text(over.lines),
    result: bad("malformed", 1, over.at),
  });
}
// The limit counts UTF-8 bytes, not characters: fewer than 1 MiB characters can be over it.
{
  const atLimit = exportWithLineOf("jsonl", MAX_LINE, "\u20ac");
  add({
    id: "jsonl-line-at-limit-multibyte",
    comment:
      "an entry line of exactly 1,048,576 UTF-8 bytes, mostly 3-byte characters, is accepted",
    section: "§6",
    format: "jsonl",
    input: text(atLimit.lines),
    result: atLimit.result,
  });
  const over = exportWithLineOf("jsonl", MAX_LINE + 1, "\u00e9");
  add({
    id: "jsonl-line-over-limit-multibyte",
    comment: "an entry line of 1,048,577 UTF-8 bytes in about 524,000 characters is malformed",
    section: "§6",
    format: "jsonl",
    input: text(over.lines),
    result: bad("malformed", 1, over.at),
  });
}

// ---------------------------------------------------------------- signed manifests (§6.1)
const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
async function signedCases(): Promise<void> {
  // The key ID in the key text is recomputed by the signer; build it from the seed only.
  const log = signerOf("audit.example.com", seed);
  const other = signerOf(
    "other.example.com",
    Uint8Array.from({ length: 32 }, (_, i) => 100 + i),
  );
  for (const f of FORMATS) {
    const es = buildChain(3);
    const base = manifestOf(es) as unknown as ExportManifest;
    const signed = await signManifest(base, log, "audit.example.com");
    const signedOther = await signManifest(base, other, "other.example.com");
    const lines = (mf: unknown) => text(linesOf(f, jcs(mf), es));
    const keys = { manifestKeys: [log.verifierKey] };
    add({
      id: `${f}-signed-valid`,
      comment: "a signed manifest verified with the log's key",
      section: "§6.1",
      format: f,
      input: lines(signed),
      trusted: keys,
      result: valid(es),
    });
    add({
      id: `${f}-signed-unchecked`,
      comment: "a signed manifest with no key given verifies like an unsigned one",
      section: "§6.1",
      format: f,
      input: lines(signed),
      result: valid(es),
    });
    add({
      id: `${f}-signed-unsigned`,
      comment: "an unsigned manifest when a key is given",
      section: "§6.1",
      format: f,
      input: lines(base),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    add({
      id: `${f}-signed-unsigned-allowed`,
      comment: "an unsigned manifest with allowUnsignedManifest",
      section: "§6.1",
      format: f,
      input: lines(base),
      trusted: { ...keys, allowUnsignedManifest: true },
      result: valid(es),
    });
    add({
      id: `${f}-signed-other-key`,
      comment: "signed by a key that is not trusted",
      section: "§6.1",
      format: f,
      input: lines(signedOther),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    add({
      id: `${f}-signed-both-keys`,
      comment: "one trusted key among the given keys",
      section: "§6.1",
      format: f,
      input: lines(signed),
      trusted: { manifestKeys: [other.verifierKey, log.verifierKey] },
      result: valid(es),
    });
    add({
      id: `${f}-signed-size-tampered`,
      comment: "size changed after signing",
      section: "§6.1",
      format: f,
      input: lines({ ...signed, size: 2, headHash: (es[1] as Built).hash }),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    add({
      id: `${f}-signed-origin-foreign`,
      comment: "origin names another chain",
      section: "§6.1",
      format: f,
      input: lines({ ...signed, origin: "audit.example.com/keywarden/user:bob" }),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    add({
      id: `${f}-signed-signature-garbled`,
      comment: "signature lines that are not signature lines",
      section: "§6.1",
      format: f,
      input: lines({ ...signed, signature: "not a signature\n" }),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    add({
      id: `${f}-signed-no-final-lf`,
      comment: "signature without its final LF",
      section: "§6.1",
      format: f,
      input: lines({ ...signed, signature: (signed.signature as string).slice(0, -1) }),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    const flipped = (signed.signature as string).replace(
      /[A-Za-z](?=[A-Za-z0-9+/]{10}=*\n$)/,
      (c) => (c === "A" ? "B" : "A"),
    );
    add({
      id: `${f}-signed-bad-signature`,
      comment: "a trusted key's signature that fails",
      section: "§6.1 §11",
      format: f,
      input: lines({ ...signed, signature: flipped }),
      trusted: keys,
      result: bad("manifest-signature", 0, manifestLine(f)),
    });
    add({
      id: `${f}-signed-truncated-entries`,
      comment: "a signed manifest, the last entry cut: truncated after the signature check",
      section: "§6.1",
      format: f,
      input: text(linesOf(f, jcs(signed), es.slice(0, 2))),
      trusted: keys,
      result: bad("truncated", 2, null),
    });
  }
}
/** A signer for the Ed25519 seed `s` named `name` (key ID as format §11 computes it). */
function signerOf(name: string, s: Uint8Array): LocalEd25519Signer {
  const pub = ed25519.getPublicKey(s);
  const id = sha(`${name}\n`, Buffer.of(1), Buffer.from(pub)).slice(0, 8);
  const material = Buffer.concat([Buffer.of(1), s]).toString("base64");
  return LocalEd25519Signer.fromSecret(Secret.fromString(`PRIVATE+KEY+${name}+${id}+${material}`));
}

async function main(): Promise<void> {
  await signedCases();
  const log = signerOf("audit.example.com", seed);
  const other = signerOf(
    "other.example.com",
    Uint8Array.from({ length: 32 }, (_, i) => 100 + i),
  );
  for (const t of await transparencyVectors(log, other)) {
    if (ids.has(t.id)) throw new Error(`duplicate id ${t.id}`);
    ids.add(t.id);
    vectors.push(t as unknown as Vector);
  }
  const check = process.argv.includes("--check");
  mkdirSync(OUT, { recursive: true });
  const wanted = new Map(vectors.map((v) => [`${v.id}.json`, `${JSON.stringify(v, null, 2)}\n`]));
  let differs = 0;
  for (const name of readdirSync(OUT))
    if (name.endsWith(".json") && !wanted.has(name)) {
      differs++;
      if (!check) rmSync(join(OUT, name));
    }
  for (const [name, body] of wanted) {
    let old: string | undefined;
    try {
      old = readFileSync(join(OUT, name), "utf8");
    } catch {
      old = undefined;
    }
    if (old !== body) {
      differs++;
      if (!check) writeFileSync(join(OUT, name), body);
    }
  }
  if (check && differs > 0) {
    process.stderr.write(`${differs} vector files differ from the generator\n`);
    process.exit(1);
  }
  process.stdout.write(`${vectors.length} vectors\n`);
}
await main();
