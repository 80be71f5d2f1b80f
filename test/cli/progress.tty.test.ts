import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { progressLine } from "../../src/cli/progress.js";

function io(tty: boolean) {
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let err = "";
  stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const value: CliIo = {
    stdout: new PassThrough(),
    stderr,
    stdin: new PassThrough(),
    env: {},
    cwd: "/",
  };
  return { io: value, err: () => err };
}

describe("progressLine", () => {
  it("writes nothing when stderr is not a terminal (piped, redirected, CI)", () => {
    const t = io(false);
    const p = progressLine(t.io);
    p.update("verified 65536 entries…");
    p.done();
    expect(t.err()).toBe("");
  });

  it("on a terminal, rewrites one line at most every 100 ms and erases it when done", () => {
    const t = io(true);
    let now = 0;
    const p = progressLine(t.io, () => now);
    p.update("a");
    now = 50;
    p.update("b");
    now = 150;
    p.update("c");
    p.done();
    expect(t.err()).toBe("\r\x1b[Ka\r\x1b[Kc\r\x1b[K");
  });
});
