/**
 * Small JSON state files for the user's verifier (last verified checkpoint per origin) and for the
 * witness (last cosigned size and root per origin). Writes are atomic (temporary file, fsync,
 * rename) with mode 0600, so a crash leaves either the old or the new state, never a torn one.
 * Every read-modify-write holds the file's update lock: an in-process queue per path and, across
 * processes, a lock file beside it (`<file>.lock`, created exclusively, removed when the update
 * ends), so two compare-and-sets can never both succeed from the same state.
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { z } from "zod";
import { KeywardenError } from "../../errors.js";
import { bytesEqual, fromBase64, toBase64 } from "../primitives/portable.js";
import type { MonitorRecord } from "./monitor.js";
import type { WitnessRecord, WitnessStateStore } from "./witness.js";

const b64 = z.string().max(100);
const monitorRecord = z
  .object({
    origin: z.string().min(1).max(255),
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    rootHash: b64,
    timestamp: z.number().int().nonnegative().optional(),
    note: z.string().max(1 << 20),
    frontier: z.array(b64).max(64).optional(),
  })
  .strict();
const stateFile = z
  .object({
    version: z.literal(1),
    monitor: z.record(z.string(), monitorRecord).default({}),
    witness: z
      .record(
        z.string(),
        z.object({ size: z.number().int().nonnegative(), rootHash: b64 }).strict(),
      )
      .default({}),
  })
  .strict();

type StateFile = z.infer<typeof stateFile>;

async function load(path: string): Promise<StateFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT")
      return { version: 1, monitor: {}, witness: {} };
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "state file cannot be read", { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = stateFile.safeParse(json);
  /* Precondition: a corrupted state file is refused, never treated as a first run. */
  if (!parsed.success)
    throw new KeywardenError("ERR_AUDIT_MALFORMED_INPUT", "state file is malformed");
  return parsed.data;
}

const LOCK_WAIT_MS = 5000;
const queues = new Map<string, Promise<unknown>>();

/** Runs `update` holding the state file's update lock (in-process queue, then the lock file). */
function withUpdateLock<T>(path: string, update: () => Promise<T>): Promise<T> {
  const run = (queues.get(path) ?? Promise.resolve()).then(async () => {
    const lock = `${path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, "wx", 0o600)).close();
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
        if (Date.now() > deadline)
          throw new KeywardenError(
            "ERR_AUDIT_STORE_LOCKED",
            "state file is being updated by another process (if none is running, remove its .lock file)",
          );
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      return await update();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  });
  const tail = run.catch(() => undefined);
  queues.set(path, tail);
  void tail.then(() => {
    if (queues.get(path) === tail) queues.delete(path);
  });
  return run;
}

async function save(path: string, state: StateFile): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(tmp, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * The last verified checkpoint of `origin` in the state file, or undefined on a first run.
 *
 * @example
 * ```ts
 * const previous = await readMonitorRecord("~/.keywarden-audit.json", origin);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` when the file exists but is corrupted.
 */
export async function readMonitorRecord(
  path: string,
  origin: string,
): Promise<MonitorRecord | undefined> {
  const s = await load(path);
  return Object.hasOwn(s.monitor, origin) ? (s.monitor[origin] as MonitorRecord) : undefined;
}

/**
 * Saves a verified record (replacing the origin's previous one) atomically.
 *
 * @example
 * ```ts
 * const r = checkCheckpointUpdate({ note, policy, previous, consistencyProof });
 * if (r.ok) await writeMonitorRecord(statePath, r.record);
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` when the existing file is corrupted.
 */
export async function writeMonitorRecord(path: string, record: MonitorRecord): Promise<void> {
  const parsed = monitorRecord.parse(JSON.parse(JSON.stringify(record)));
  await withUpdateLock(path, async () => {
    const s = await load(path);
    s.monitor[record.origin] = parsed;
    await save(path, s);
  });
}

/**
 * A witness state store in a JSON file. Its compare-and-set is atomic across the processes that
 * share the file (see the update lock above); a long-running witness should use `FileWitnessState`.
 *
 * @example
 * ```ts
 * const state = fileWitnessState("witness-state.json");
 * ```
 * @throws {KeywardenError} `ERR_AUDIT_MALFORMED_INPUT` from its methods when the file is corrupted.
 */
export function fileWitnessState(path: string): WitnessStateStore {
  const get = async (origin: string): Promise<WitnessRecord | undefined> => {
    const s = await load(path);
    const r = Object.hasOwn(s.witness, origin) ? s.witness[origin] : undefined;
    if (!r) return undefined;
    const rootHash = fromBase64(r.rootHash);
    if (rootHash?.length !== 32)
      throw new KeywardenError("ERR_AUDIT_MALFORMED_INPUT", "state file is malformed");
    return { size: r.size, rootHash };
  };
  return {
    get,
    compareAndSet(origin, expected, next) {
      /* Postcondition: of two compare-and-sets from the same state, at most one succeeds. */
      return withUpdateLock(path, async () => {
        const cur = await get(origin);
        const same =
          cur === undefined || expected === undefined
            ? cur === expected
            : cur.size === expected.size && bytesEqual(cur.rootHash, expected.rootHash);
        if (!same) return false;
        const s = await load(path);
        s.witness[origin] = { size: next.size, rootHash: toBase64(next.rootHash) };
        await save(path, s);
        return true;
      });
    },
  };
}
