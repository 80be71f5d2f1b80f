import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { hostIdentity, isIdentity } from "../../src/guard/index.js";
import { guardRuntime } from "../../src/guard/runtime.js";

const KEY = Symbol.for("keywarden.guard.runtime.v1");
const runtimeUrl = new URL("../../src/guard/runtime.ts", import.meta.url).href;
const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `body` in a fresh Node process (a fresh globalThis) with the runtime module importable. */
function inFreshProcess(body: string): { code: string; out: string } {
  const script = `${body}
try { const { guardRuntime } = await import(${JSON.stringify(runtimeUrl)}); guardRuntime();
  process.stdout.write("OK"); } catch (e) { process.stdout.write(String(e.code)); }`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.stdout.trim(), out: r.stderr };
}

describe("guard runtime singleton", () => {
  it("is defined non-writable and non-configurable on globalThis", () => {
    const runtime = guardRuntime();
    const desc = Object.getOwnPropertyDescriptor(globalThis, KEY);
    expect(desc?.value).toBe(runtime);
    expect(desc?.writable).toBe(false);
    expect(desc?.configurable).toBe(false);
    expect(Object.isFrozen(runtime)).toBe(true);
  });

  it("a second copy cannot replace it", () => {
    const runtime = guardRuntime();
    expect(() => Object.defineProperty(globalThis, KEY, { value: { version: 1 } })).toThrow(
      TypeError,
    );
    expect(() => {
      (globalThis as Record<symbol, unknown>)[KEY] = { version: 1 };
    }).toThrow(TypeError);
    expect(() => {
      (runtime as { context: unknown }).context = null;
    }).toThrow(TypeError);
    expect((globalThis as Record<symbol, unknown>)[KEY]).toBe(runtime);
  });

  it("identities minted by one copy are recognised through the shared runtime", async () => {
    // A second copy of the module (fresh module instance, same globalThis) shares the runtime.
    vi.resetModules();
    const copy = (await import("../../src/guard/runtime.js")) as {
      guardRuntime: typeof guardRuntime;
    };
    expect(copy.guardRuntime).not.toBe(guardRuntime); // really a second module instance
    expect(copy.guardRuntime()).toBe(guardRuntime());
    const who = hostIdentity("user-a");
    expect(copy.guardRuntime().identities.has(who)).toBe(true);
    expect(isIdentity(who)).toBe(true);
  });

  it("detects a writable slot planted before keywarden loads", () => {
    const r = inFreshProcess(
      `Object.defineProperty(globalThis, Symbol.for("keywarden.guard.runtime.v1"), { value: {}, writable: true, configurable: true });`,
    );
    expect(r.code, r.out).toBe("ERR_GUARD_CONTEXT_TAMPERED");
  });

  it("detects a locked look-alike planted before keywarden loads", () => {
    const r = inFreshProcess(
      `Object.defineProperty(globalThis, Symbol.for("keywarden.guard.runtime.v1"), { value: Object.freeze({ version: 1, context: {}, identities: new WeakSet(), handlers: new Map(), marks: new WeakMap() }) });`,
    );
    expect(r.code, r.out).toBe("ERR_GUARD_CONTEXT_TAMPERED");
  });

  it("detects an accessor slot", () => {
    const r = inFreshProcess(
      `Object.defineProperty(globalThis, Symbol.for("keywarden.guard.runtime.v1"), { get() { return undefined; } });`,
    );
    expect(r.code, r.out).toBe("ERR_GUARD_CONTEXT_TAMPERED");
  });

  it("a clean process gets a genuine runtime", () => {
    expect(inFreshProcess("").code).toBe("OK");
  });
});
