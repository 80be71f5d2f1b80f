import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileWitnessState } from "../../../src/audit/transparency/state-file.js";

const run = promisify(execFile);
const root = (b: number) => new Uint8Array(32).fill(b);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-state-cas-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fileWitnessState compare-and-set", () => {
  it("of two compare-and-sets from the same state, at most one succeeds", async () => {
    const state = fileWitnessState(join(dir, "w.json"));
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        state.compareAndSet("log", undefined, { size: i + 1, rootHash: root(i) }),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = outcomes.indexOf(true);
    expect(await state.get("log")).toEqual({ size: winner + 1, rootHash: root(winner) });
    // From the winner's state, exactly one of the next round succeeds too.
    const cur = await state.get("log");
    const next = await Promise.all(
      [50, 60, 70].map((n) => state.compareAndSet("log", cur, { size: n, rootHash: root(n) })),
    );
    expect(next.filter(Boolean)).toHaveLength(1);
  });

  it("is atomic across processes sharing the file", async () => {
    const file = join(dir, "w.json");
    // Each process increments the size 25 times by compare-and-set from what it read; a lost
    // update (two processes both succeeding from one state) leaves the size below the wins.
    const child = `
      import { fileWitnessState } from ${JSON.stringify(new URL("../../../src/audit/transparency/state-file.ts", import.meta.url).pathname)};
      const s = fileWitnessState(process.argv[1]);
      let wins = 0;
      for (let i = 0; i < 25; i++) {
        const cur = await s.get("log");
        const size = (cur?.size ?? 0) + 1;
        if (await s.compareAndSet("log", cur, { size, rootHash: new Uint8Array(32).fill(size % 256) })) wins++;
      }
      process.stdout.write(String(wins));
    `;
    const outs = await Promise.all(
      [1, 2, 3, 4].map(() =>
        run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", child, file], {
          cwd: new URL("../../..", import.meta.url).pathname,
        }),
      ),
    );
    const wins = outs.reduce((n, o) => n + Number(o.stdout), 0);
    expect(wins).toBeGreaterThan(0);
    expect((await fileWitnessState(file).get("log"))?.size).toBe(wins);
  }, 30_000);

  it("waits for another process's update lock, and names it when it never ends", async () => {
    const file = join(dir, "w.json");
    await writeFile(`${file}.lock`, "");
    const state = fileWitnessState(file);
    const pending = state.compareAndSet("log", undefined, { size: 1, rootHash: root(1) });
    await new Promise((r) => setTimeout(r, 50));
    await rm(`${file}.lock`);
    expect(await pending).toBe(true);
    await writeFile(`${file}.lock`, "");
    await expect(
      state.compareAndSet("log", await state.get("log"), { size: 2, rootHash: root(2) }),
    ).rejects.toMatchObject({ code: "ERR_AUDIT_STORE_LOCKED" });
  }, 15_000);
});
