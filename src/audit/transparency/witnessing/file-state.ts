/**
 * A durable {@link WitnessStateStore}: one JSON file of per-origin records (size, root), replaced
 * atomically (temp file, fsync, rename, directory fsync) on every update. Compare-and-set runs
 * under an in-process mutex, and the file is held by one process at a time through an exclusive
 * lock file next to it (`<file>.lock`, created with O_EXCL, removed by {@link FileWitnessState.close}).
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { KeywardenError } from "../../../errors.js";
import { bytesEqual, fromBase64, toBase64 } from "../../primitives/index.js";
import type { WitnessRecord, WitnessStateStore } from "../witness.js";

/**
 * File-backed witness state.
 *
 * @example
 * ```ts
 * const state = await FileWitnessState.open("/var/lib/keywarden/witness.json");
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_STORE_LOCKED` when another process holds the file; `ERR_AUDIT_STORE_CORRUPT` when it is unreadable.
 */
export class FileWitnessState implements WitnessStateStore {
  readonly #path: string;
  readonly #records: Map<string, WitnessRecord>;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(path: string, records: Map<string, WitnessRecord>) {
    this.#path = path;
    this.#records = records;
  }

  /** Opens (or creates) the state file and takes its lock. */
  static async open(path: string): Promise<FileWitnessState> {
    try {
      await (await open(`${path}.lock`, "wx", 0o600)).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new KeywardenError(
          "ERR_AUDIT_STORE_LOCKED",
          "witness state is in use by another process",
        );
      }
      throw err;
    }
    const records = new Map<string, WitnessRecord>();
    let raw: string | undefined;
    try {
      raw = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (raw !== undefined) {
      try {
        const parsed = JSON.parse(raw) as {
          v: number;
          logs: Record<string, { size: number; root: string }>;
        };
        if (parsed.v !== 1) throw new Error("version");
        for (const [origin, r] of Object.entries(parsed.logs)) {
          const rootHash = fromBase64(r.root);
          if (!Number.isSafeInteger(r.size) || r.size < 0 || rootHash?.length !== 32)
            throw new Error("record");
          records.set(origin, { size: r.size, rootHash });
        }
      } catch (cause) {
        await unlink(`${path}.lock`);
        throw new KeywardenError("ERR_AUDIT_STORE_CORRUPT", "witness state file is unreadable", {
          cause,
        });
      }
    }
    return new FileWitnessState(path, records);
  }

  async get(origin: string): Promise<WitnessRecord | undefined> {
    return this.#records.get(origin);
  }

  compareAndSet(
    origin: string,
    expected: WitnessRecord | undefined,
    next: WitnessRecord,
  ): Promise<boolean> {
    const run = this.#queue.then(async () => {
      if (this.#closed)
        throw new KeywardenError("ERR_AUDIT_STORE_UNAVAILABLE", "witness state is closed");
      const cur = this.#records.get(origin);
      const same =
        cur === undefined || expected === undefined
          ? cur === expected
          : cur.size === expected.size && bytesEqual(cur.rootHash, expected.rootHash);
      if (!same) return false;
      const updated = new Map(this.#records);
      updated.set(origin, { size: next.size, rootHash: new Uint8Array(next.rootHash) });
      await this.#persist(updated);
      this.#records.set(origin, updated.get(origin) as WitnessRecord);
      return true;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #persist(records: Map<string, WitnessRecord>): Promise<void> {
    const logs: Record<string, { size: number; root: string }> = {};
    for (const [o, r] of records) logs[o] = { size: r.size, root: toBase64(r.rootHash) };
    const dir = dirname(this.#path);
    const tmp = join(dir, `.witness-${randomBytes(8).toString("hex")}.tmp`);
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(`${JSON.stringify({ v: 1, logs })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.#path);
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  /** Waits for pending writes and releases the lock file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    await unlink(`${this.#path}.lock`);
  }
}
