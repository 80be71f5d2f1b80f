/**
 * A heads-log process for tiles.crash.test.ts: opens the heads log in a directory and integrates
 * batches of random size until killed (or until `batches` are done). Prints `READY <size>` once
 * open, `PUBLISHED <size> <root base64>` after each publication, `DONE` at the end.
 *
 *   KEYWARDEN_AUDIT_SIGNING_KEY=<signer key text> \
 *     node --import tsx tiles-crash-child.ts '{"dir": ..., "life": n, "batches": n}'
 */
import { toBase64 } from "../../../../src/audit/primitives/index.js";
import { parseCheckpoint } from "../../../../src/audit/transparency/checkpoint.js";
import { HeadsLog } from "../../../../src/audit/transparency/heads/index.js";
import { parseNote } from "../../../../src/audit/transparency/note.js";
import { LocalEd25519Signer } from "../../../../src/audit/transparency/signer.js";
import { Secret } from "../../../../src/secret.js";

const { dir, life, batches } = JSON.parse(process.argv[2] as string) as {
  dir: string;
  life: number;
  batches: number;
};
const out = (line: string) => process.stdout.write(`${line}\n`);
const signer = LocalEd25519Signer.fromEnv();
const heads = await HeadsLog.open({
  dir,
  origin: signer.keyName,
  signer,
  headsSecret: Secret.copyOf(new Uint8Array(32).fill(7)),
});
out(`READY ${heads.size}`);
const enc = new TextEncoder();
for (let b = 0; b < batches; b++) {
  // 1 … 1,500 leaves: from a partial tile to several full tiles and bundles per batch.
  const n = 1 + Math.floor(Math.random() * 1500);
  for (let i = 0; i < n; i++) heads.enqueueLeaf(enc.encode(`life ${life} batch ${b} leaf ${i}`));
  const batch = await heads.integrate();
  const cp = parseCheckpoint(parseNote(batch?.note ?? "").text);
  out(`PUBLISHED ${cp.size} ${toBase64(cp.rootHash)}`);
}
out("DONE");
