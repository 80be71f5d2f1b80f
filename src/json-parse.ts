import { KeywardenError } from "./errors.js";
import { type JsonValue, MAX_DEPTH } from "./json-value.js";

/**
 * Strict RFC 8259 / I-JSON (RFC 7493) parser: rejects duplicate object keys, lone surrogates
 * (escaped or literal), non-finite numbers and unsafe integers, nesting deeper than
 * {@link MAX_DEPTH}, and trailing content. `JSON.parse` silently keeps the last duplicate key,
 * which would let two readers of the same bytes see different values.
 */
class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(why: string): never {
    throw new KeywardenError("ERR_JSON_PARSE", `invalid JSON at offset ${this.i}: ${why}`, {
      details: { offset: this.i },
    });
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  value(depth: number): JsonValue {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", null);
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    return this.fail(c === undefined ? "unexpected end" : "unexpected character");
  }

  literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail("unexpected token");
    this.i += word.length;
    return v;
  }

  number(): number {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const hit = m.exec(this.s);
    if (!hit) this.fail("malformed number");
    this.i += hit[0].length;
    const n = Number(hit[0]);
    if (!Number.isFinite(n)) this.fail("number out of range");
    if (Number.isInteger(n) && !Number.isSafeInteger(n))
      this.fail("integer outside the safe range");
    return n;
  }

  string(): string {
    this.i++; // opening quote
    let out = "";
    let start = this.i;
    const s = this.s;
    for (;;) {
      if (this.i >= s.length) this.fail("unterminated string");
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        break;
      }
      if (c < 0x20) this.fail("control character in string");
      if (c === 0x5c) {
        out += s.slice(start, this.i);
        const e = s[this.i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.i += 2;
        } else if (e === "u") {
          const hex = s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.i += 6;
        } else {
          this.fail("bad escape");
        }
        start = this.i;
      } else {
        this.i++;
      }
    }
    if (!out.isWellFormed()) this.fail("lone surrogate in string");
    return out;
  }

  array(depth: number): JsonValue[] {
    if (depth >= MAX_DEPTH) this.fail("nesting too deep");
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") this.fail("expected ',' or ']'");
    }
  }

  object(depth: number): { [key: string]: JsonValue } {
    if (depth >= MAX_DEPTH) this.fail("nesting too deep");
    this.i++;
    // Keys are defined as data properties, so a "__proto__" key is data, not a prototype setter.
    const out: { [key: string]: JsonValue } = {};
    const keys = new Set<string>();
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a string key");
      const key = this.string();
      if (keys.has(key)) this.fail("duplicate key");
      keys.add(key);
      this.ws();
      if (this.s[this.i++] !== ":") this.fail("expected ':'");
      const v = this.value(depth + 1);
      Object.defineProperty(out, key, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return out;
      if (c !== ",") this.fail("expected ',' or '}'");
    }
  }
}

/**
 * Parses JSON text strictly (see module notes): duplicate keys, lone surrogates, non-finite numbers,
 * unsafe integers and trailing content are errors.
 *
 * @example
 * ```ts
 * parseJson('{"a":1}');        // { a: 1 }
 * parseJson('{"a":1,"a":2}');  // throws ERR_JSON_PARSE (duplicate key)
 * ```
 * @throws {KeywardenError} `ERR_JSON_PARSE` with the byte offset of the problem.
 */
export function parseJson(text: string): JsonValue {
  if (typeof text !== "string")
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "parseJson expects a string");
  const p = new Parser(text);
  const v = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail("trailing content");
  return v;
}
