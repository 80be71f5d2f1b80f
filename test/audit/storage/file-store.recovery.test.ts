import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog, openFileAuditStore, userChainId } from "../../../src/audit/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity, runAs } from "../../../src/guard/index.js";

const CHAIN = userChainId("alice");
const fired = { action: "killswitch.fired", payload: { scope: "all", reason: "r" } };
let dir = "";
let path = "";

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kw-audit-file-"));
  path = join(dir, "audit.jsonl");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeEntries(n: number, payload: object = fired.payload) {
  const store = await openFileAuditStore(path);
  const log = new AuditLog({ store });
  await runAs(hostIdentity("alice"), async () => {
    for (let i = 0; i < n; i++)
      await log.appendEntry(CHAIN, { action: "killswitch.fired", payload });
  });
  const head = await store.head(CHAIN);
  await store.close();
  return head;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isKeywardenError(err) ? err.code : String(err);
  }
}

describe("JSONL file store: crash recovery and corruption", () => {
  it.each(["", ".payloads"])(
    "recovers a torn final line in %s and keeps appending",
    async (suffix) => {
      const head = await writeEntries(3);
      const before = await readFile(`${path}${suffix}`);
      await appendFile(`${path}${suffix}`, '{"t":"append","chainId":"user:alice","first":3,"entr');
      const store = await openFileAuditStore(path);
      expect(await readFile(`${path}${suffix}`)).toEqual(before); // the torn tail was cut
      const log = new AuditLog({ store });
      expect(await log.verifyChain(CHAIN, head)).toMatchObject({ ok: true, size: 3 });
      await runAs(hostIdentity("alice"), () => log.appendEntry(CHAIN, fired));
      expect(await log.verifyChain(CHAIN)).toMatchObject({ ok: true, size: 4 });
      await store.close();
    },
  );

  it("refuses a file corrupted before its last line, naming the line", async () => {
    await writeEntries(3);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace('"first":1', '"first":1x'));
    const err = await openFileAuditStore(path).catch((e: unknown) => e);
    expect(isKeywardenError(err, "ERR_AUDIT_STORE_CORRUPT")).toBe(true);
    expect((err as Error).message).toContain("line 2");
  });

  it("refuses a duplicated (non-contiguous) batch line", async () => {
    await writeEntries(2);
    const [first] = (await readFile(path, "utf8")).split("\n");
    await appendFile(path, `${first}\n`);
    expect(await codeOf(openFileAuditStore(path))).toBe("ERR_AUDIT_STORE_CORRUPT");
  });

  it("keeps every acknowledged append when the writer is killed with SIGKILL", async () => {
    const script = join(dir, "writer.mts");
    const src = new URL("../../../src/", import.meta.url).pathname;
    await writeFile(
      script,
      `import { AuditLog, openFileAuditStore } from "${src}audit/index.ts";
import { hostIdentity, runAs } from "${src}guard/index.ts";
const store = await openFileAuditStore(${JSON.stringify(path)});
const log = new AuditLog({ store });
await runAs(hostIdentity("alice"), async () => {
  for (let i = 0; ; i++) {
    const e = await log.appendEntry("user:alice", { action: "killswitch.fired", payload: { scope: "s" + i, reason: "r" } });
    process.stdout.write(e.seq + " " + e.hash + "\\n");
  }
});`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acked = "";
    child.stdout.on("data", (d: Buffer) => {
      acked += d.toString();
    });
    while ((acked.match(/\n/g) ?? []).length < 20) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await once(child, "exit");
    const lines = acked
      .trim()
      .split("\n")
      .filter((l) => /^\d+ [0-9a-f]{64}$/.test(l));
    const [seq, hash] = (lines[lines.length - 1] as string).split(" ");
    const store = await openFileAuditStore(path); // the dead writer's lock is stale
    const r = await new AuditLog({ store }).verifyChain(CHAIN);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.size).toBeGreaterThan(Number(seq));
    const entries = [];
    for await (const e of store.read(CHAIN, Number(seq), Number(seq) + 1)) entries.push(e);
    expect(entries[0]?.hash).toBe(hash);
    await store.close();
  }, 60_000);
});

describe("JSONL file store: lock and several writers", () => {
  it("a lock held by a live process is never broken", async () => {
    const store = await openFileAuditStore(path, { lockWaitMs: 100 });
    // A live process (this one, under another nonce) holds the write lock.
    await writeFile(`${path}.lock`, `${process.pid} someone-else\n`);
    expect(
      await codeOf(
        runAs(hostIdentity("alice"), () => new AuditLog({ store }).appendEntry(CHAIN, fired)),
      ),
    ).toBe("ERR_AUDIT_STORE_LOCKED");
    expect((await readFile(`${path}.lock`, "utf8")).trim()).toBe(`${process.pid} someone-else`);
    await rm(`${path}.lock`);
    await runAs(hostIdentity("alice"), () => new AuditLog({ store }).appendEntry(CHAIN, fired));
    await store.close();
  });

  it("breaks a stale lock whose process is gone", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    await once(child, "exit");
    await writeFile(`${path}.lock`, `${child.pid} deadbeef\n`);
    const store = await openFileAuditStore(path);
    await runAs(hostIdentity("alice"), () => new AuditLog({ store }).appendEntry(CHAIN, fired));
    expect(await store.head(CHAIN)).toMatchObject({ size: 1 });
    await store.close();
  });

  it("read-only stores cannot write", async () => {
    await writeEntries(1);
    const reader = await openFileAuditStore(path, { readOnly: true });
    expect(
      await codeOf(
        runAs(hostIdentity("alice"), () =>
          new AuditLog({ store: reader }).appendEntry(CHAIN, fired),
        ),
      ),
    ).toBe("ERR_NOT_SUPPORTED");
    await reader.close();
  });

  it("two stores on one file see each other's appends and never fork", async () => {
    const a = await openFileAuditStore(path);
    const b = await openFileAuditStore(path);
    const la = new AuditLog({ store: a });
    const lb = new AuditLog({ store: b });
    await runAs(hostIdentity("alice"), () =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? la : lb).appendEntry(CHAIN, fired)),
      ),
    );
    expect(await la.verifyChain(CHAIN)).toMatchObject({ ok: true, size: 40 });
    expect(await lb.verifyChain(CHAIN)).toMatchObject({ ok: true, size: 40 });
    await a.close();
    await b.close();
  });

  it("several OS processes append to one chain with no fork, gap or lost entry", async () => {
    const script = join(dir, "multi.mts");
    const src = new URL("../../../src/", import.meta.url).pathname;
    await writeFile(
      script,
      `import { AuditLog, openFileAuditStore } from "${src}audit/index.ts";
import { hostIdentity, runAs } from "${src}guard/index.ts";
const store = await openFileAuditStore(${JSON.stringify(path)});
const log = new AuditLog({ store });
await runAs(hostIdentity("alice"), async () => {
  for (let i = 0; i < 15; i++) {
    const e = await log.appendEntry("user:alice", { action: "killswitch.fired", payload: { scope: process.argv[2] + "-" + i, reason: "r" } });
    process.stdout.write(e.hash + "\\n");
  }
});
await store.close();`,
    );
    const runs = [1, 2, 3].map((n) => {
      const child = spawn(process.execPath, ["--import", "tsx", script, `w${n}`], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      return once(child, "exit").then(([code]) => ({ code, hashes: out.trim().split("\n") }));
    });
    const results = await Promise.all(runs);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const store = await openFileAuditStore(path);
    expect(await new AuditLog({ store }).verifyChain(CHAIN)).toMatchObject({ ok: true, size: 45 });
    const stored = new Set<string>();
    for await (const e of store.read(CHAIN, 0)) stored.add(e.hash);
    for (const r of results) for (const h of r.hashes) expect(stored.has(h)).toBe(true); // every acknowledged append
    await store.close();
  }, 120_000);
});

describe("JSONL file store: erasure", () => {
  it("removes the payload bytes from disk, keeps the chain verifiable", async () => {
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
    const head = await writeEntries(3, { scope: canary, reason: "r" });
    const store = await openFileAuditStore(path);
    await store.erasePayload(CHAIN, 1);
    await store.close();
    const side = await readFile(`${path}.payloads`, "utf8");
    expect(side.split(canary)).toHaveLength(3); // entries 0 and 2 keep theirs
    expect(await readFile(path, "utf8")).not.toContain(canary); // the chain file never held it
    const reopened = await openFileAuditStore(path);
    expect(await new AuditLog({ store: reopened }).verifyChain(CHAIN, head)).toMatchObject({
      ok: true,
      redacted: 1,
    });
    await reopened.close();
  });
});

describe("file lock", () => {
  it("the lock file names this writer (no other process replaced it meanwhile)", async () => {
    const { acquireLock } = await import("../../../src/audit/storage/file/lock.js");
    const lock = await acquireLock(`${path}.lock`);
    const [pid, nonce] = (await readFile(`${path}.lock`, "utf8")).trim().split(" ");
    expect(Number(pid)).toBe(process.pid);
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
    // If another writer's lock replaced ours, releasing ours must leave theirs in place.
    await writeFile(`${path}.lock`, `${process.pid} another-writer\n`);
    await lock.release();
    expect(await readFile(`${path}.lock`, "utf8")).toBe(`${process.pid} another-writer\n`);
  });
});
