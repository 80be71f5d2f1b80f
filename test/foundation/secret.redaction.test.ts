import { randomBytes } from "node:crypto";
import { format, inspect } from "node:util";
import v8 from "node:v8";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { isKeywardenError } from "../../src/errors.js";
import { REDACTED, Secret } from "../../src/secret.js";

const canary = () => `CANARY-${randomBytes(8).toString("hex")}`;

/** Every way the canary could show up in a rendering: text, hex, base64 and the raw byte list. */
function leaks(rendered: string, text: string): boolean {
  const bytes = Buffer.from(text);
  return (
    rendered.includes(text) ||
    rendered.includes(bytes.toString("hex")) ||
    rendered.includes(bytes.toString("base64")) ||
    rendered.includes(Array.from(bytes.subarray(0, 6)).join(", "))
  );
}

describe("Secret redaction", () => {
  const text = canary();
  const s = Secret.fromString(text);

  it.each([
    ["String()", () => String(s)],
    ["template literal", () => `${s}`],
    ["concatenation", () => `x${s}`],
    ["toString()", () => s.toString()],
    ["JSON.stringify", () => JSON.stringify({ s })],
    ["toJSON", () => JSON.stringify(s.toJSON())],
    ["util.inspect", () => inspect(s)],
    ["util.inspect showHidden", () => inspect(s, { showHidden: true, depth: 10 })],
    [
      "util.inspect showHidden customInspect:false",
      () => inspect(s, { showHidden: true, customInspect: false, depth: 10 }),
    ],
    [
      "util.inspect nested customInspect:false",
      () => inspect({ a: [s] }, { showHidden: true, customInspect: false, depth: 10 }),
    ],
    ["format %s", () => format("%s", s)],
    ["format %o", () => format("%o", s)],
    ["format %O", () => format("%O", s)],
    ["format %j", () => format("%j", s)],
    ["format %d", () => format("%d", s)],
    ["Error cause", () => inspect(new Error("boom", { cause: s }), { showHidden: true })],
    [
      "Error cause customInspect:false",
      () => inspect(new Error("boom", { cause: s }), { customInspect: false, showHidden: true }),
    ],
    ["Object.entries", () => JSON.stringify(Object.entries(s))],
    ["Object.getOwnPropertyNames", () => JSON.stringify(Object.getOwnPropertyNames(s))],
  ])("%s never carries the bytes", (_name, render) => {
    const out = render();
    expect(leaks(out, text)).toBe(false);
  });

  it("prints the redaction marker where a string is expected", () => {
    expect(String(s)).toBe(REDACTED);
    expect(`${s}`).toBe(REDACTED);
    expect(JSON.stringify({ s })).toBe(`{"s":"${REDACTED}"}`);
    expect(inspect(s)).toContain(REDACTED);
  });

  it("structuredClone and v8.serialize carry no bytes", () => {
    const cloned = structuredClone(s) as unknown;
    expect(leaks(inspect(cloned, { showHidden: true, customInspect: false }), text)).toBe(false);
    expect(Secret.isSecret(cloned)).toBe(false);
    const bytes = v8.serialize({ s });
    expect(bytes.includes(Buffer.from(text))).toBe(false);
  });

  it("a worker postMessage carries no bytes", async () => {
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.once('message', (m) => parentPort.postMessage(require('node:util').inspect(m, { showHidden: true, customInspect: false, depth: 10 })));",
      { eval: true },
    );
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
        worker.postMessage({ s });
      });
      expect(echoed).toContain("s:");
      expect(leaks(echoed, text)).toBe(false);
    } finally {
      await worker.terminate();
    }
  });
});

describe("Secret access", () => {
  it("is readable inside use() (sync and async)", async () => {
    const s = Secret.fromString("abc");
    expect(s.use((b) => Buffer.from(b).toString())).toBe("abc");
    await expect(s.use(async (b) => Buffer.from(b).toString())).resolves.toBe("abc");
    expect(s.useText((t) => t.toUpperCase())).toBe("ABC");
  });

  it("wipe() zeroes the buffer it owns, and use after wipe throws ERR_SECRET_WIPED", () => {
    const bytes = new Uint8Array(randomBytes(32));
    const s = Secret.fromBytes(bytes);
    let seen: Uint8Array | undefined;
    s.use((b) => {
      seen = b;
    });
    s.wipe();
    expect(s.wiped).toBe(true);
    expect(seen?.every((x) => x === 0)).toBe(true);
    expect(bytes.every((x) => x === 0)).toBe(true);
    let err: unknown;
    try {
      s.use(() => 1);
    } catch (e) {
      err = e;
    }
    expect(isKeywardenError(err, "ERR_SECRET_WIPED")).toBe(true);
  });

  it("consume() wipes after the callback, also when it rejects", async () => {
    const a = Secret.fromString("x");
    await expect(a.consume(async () => 7)).resolves.toBe(7);
    expect(a.wiped).toBe(true);
    const b = Secret.fromString("y");
    await expect(b.consume(async () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect(b.wiped).toBe(true);
  });

  it("copyOf() leaves the caller's buffer alone; fromBytes() takes ownership", () => {
    const src = new Uint8Array([1, 2, 3]);
    const c = Secret.copyOf(src);
    c.wipe();
    expect([...src]).toEqual([1, 2, 3]);
  });

  it("equals() compares in constant time and by length", () => {
    expect(Secret.fromString("abc").equals(Secret.fromString("abc"))).toBe(true);
    expect(Secret.fromString("abc").equals(Secret.fromString("abd"))).toBe(false);
    expect(Secret.fromString("abc").equals(Secret.fromString("abcd"))).toBe(false);
  });

  it("rejects non-bytes input with ERR_INVALID_ARGUMENT", () => {
    expect(() => Secret.fromBytes("x" as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
    expect(() => Secret.fromString(1 as unknown as string)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }),
    );
  });

  it("cannot be mutated or extended from outside", () => {
    const s = Secret.fromString("x");
    expect(Object.isFrozen(s)).toBe(true);
    expect(() => {
      (s as unknown as Record<string, unknown>).leak = 1;
    }).toThrow(TypeError);
  });
});
