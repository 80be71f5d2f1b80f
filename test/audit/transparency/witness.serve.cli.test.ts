/** `keywarden witness serve` as a real process on 127.0.0.1: cosigns, persists, stops on SIGTERM. */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import { parseVerifierKey, signNote } from "../../../src/audit/transparency/note.js";
import { LocalEd25519Signer, writeSignerKeyFile } from "../../../src/audit/transparency/signer.js";
import {
  cosignatureVerifier,
  verifyCosignedCheckpoint,
} from "../../../src/audit/transparency/witness.js";
import { formatAddCheckpoint } from "../../../src/audit/transparency/witnessing/index.js";

const ORIGIN = "audit.example.com/keywarden-heads";
let dir = "";
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("keywarden witness serve", () => {
  it("serves add-checkpoint on 127.0.0.1, keeps state in the file, exits 0 on SIGTERM", async () => {
    dir = await mkdtemp(join(tmpdir(), "kw-wserve-"));
    const { signer: log } = LocalEd25519Signer.generate(ORIGIN);
    const { signer: w, privateKey } = LocalEd25519Signer.generate("witness.example");
    await writeSignerKeyFile(join(dir, "w.key"), privateKey);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "witness",
        "serve",
        "--key-file",
        join(dir, "w.key"),
        "--state",
        join(dir, "state.json"),
        "--log",
        log.verifierKey,
        "--port",
        "0",
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const t = setInterval(() => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/add-checkpoint/.exec(out);
          if (m) {
            clearInterval(t);
            resolve(m[1] as string);
          }
        }, 50);
        setTimeout(() => reject(new Error(`no listen line: ${out}`)), 60_000);
      });
      const witnessKey = /witness key: (\S+)/.exec(out)?.[1] as string;
      const note = await signNote(
        formatCheckpoint({
          origin: ORIGIN,
          size: 1,
          rootHash: new Uint8Array(32).fill(3),
          timestamp: 1,
          extensions: [],
        }),
        [log],
      );
      const res = await fetch(`${url}/add-checkpoint`, {
        method: "POST",
        body: formatAddCheckpoint({ oldSize: 0, proof: [], note }),
      });
      expect(res.status).toBe(200);
      const cosigned = note + (await res.text());
      const v = verifyCosignedCheckpoint(cosigned, {
        logKeys: [parseVerifierKey(log.verifierKey)],
        witnesses: [cosignatureVerifier(witnessKey)],
        quorum: 1,
      });
      expect(v.cosignatures[0]?.name).toBe("witness.example");
      expect(witnessKey).toContain("witness.example+");
      expect(JSON.parse(await readFile(join(dir, "state.json"), "utf8")).logs[ORIGIN].size).toBe(1);
    } finally {
      child.kill("SIGTERM");
    }
    // The command closes the server and the state file and exits 0.
    expect(await exited).toBe(0);
    w.destroy();
  }, 90_000);
});
