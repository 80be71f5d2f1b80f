/**
 * Builds the worked example of docs/audit-format.md §10–§14 from the code, deterministically
 * (fixed Ed25519 seeds; Ed25519 signatures are deterministic). The doc test compares each block.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { concat, toBase64, toHex, utf8 } from "../../../src/audit/primitives/portable.js";
import { formatCheckpoint } from "../../../src/audit/transparency/checkpoint.js";
import {
  consistencyProof,
  hashChildren,
  inclusionProof,
  MemoryMerkleNodes,
  MerkleFrontier,
} from "../../../src/audit/transparency/merkle.js";
import {
  computeKeyId,
  keyIdHex,
  SIG_TYPE_ED25519,
  signNote,
} from "../../../src/audit/transparency/note.js";
import { formatReceipt, leafHashOfBody } from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import { createCosigner } from "../../../src/audit/transparency/witness.js";
import { Secret } from "../../../src/secret.js";

function signerFromSeed(name: string, seed: Uint8Array): LocalEd25519Signer {
  const id = keyIdHex(computeKeyId(name, SIG_TYPE_ED25519, ed25519.getPublicKey(seed)));
  return LocalEd25519Signer.fromSecret(
    Secret.fromString(`PRIVATE+KEY+${name}+${id}+${toBase64(concat(Uint8Array.of(1), seed))}`),
  );
}

export async function buildDocExample(): Promise<Record<string, string>> {
  const log = signerFromSeed(
    "audit.example.com",
    Uint8Array.from({ length: 32 }, (_, i) => i),
  );
  const witness = createCosigner(
    signerFromSeed(
      "witness.example.com",
      Uint8Array.from({ length: 32 }, (_, i) => 32 + i),
    ),
  );
  const bodies = Array.from({ length: 5 }, (_, i) => `{"example":${i}}`);
  const leaves = bodies.map((b) => leafHashOfBody(b));
  const nodes = new MemoryMerkleNodes();
  const frontier = new MerkleFrontier();
  for (const l of leaves) nodes.writeNodes(frontier.append(l));
  const [l0, l1, l2, l3, l4] = leaves as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const n01 = hashChildren(l0, l1);
  const n23 = hashChildren(l2, l3);
  const n03 = hashChildren(n01, n23);
  const root = hashChildren(n03, l4);
  const tree = [
    ...bodies.map((b, i) => `leaf ${i} = SHA-256(00 || ${b}) = ${toHex(leaves[i] as Uint8Array)}`),
    `node (1,0) = SHA-256(01 || leaf 0 || leaf 1) = ${toHex(n01)}`,
    `node (1,1) = SHA-256(01 || leaf 2 || leaf 3) = ${toHex(n23)}`,
    `node (2,0) = SHA-256(01 || node (1,0) || node (1,1)) = ${toHex(n03)}`,
    `root(5) = SHA-256(01 || node (2,0) || leaf 4) = ${toHex(root)}`,
    `root(5) in base64 = ${toBase64(root)}`,
  ].join("\n");
  const text = formatCheckpoint({
    origin: "audit.example.com/keywarden/user:alice",
    size: 5,
    rootHash: root,
    timestamp: 1764400000,
    extensions: [],
  });
  const note = await signNote(text, [log]);
  const cosigned = note + (await witness.cosign(text, 1764400100));
  const incl = await inclusionProof(nodes, 3, 5);
  const cons = await consistencyProof(nodes, 3, 5);
  const proofs = [
    "inclusion proof, index 3, size 5 (base64, leaf's sibling first):",
    ...incl.map(toBase64),
    "consistency proof, size 3 -> size 5:",
    ...cons.map(toBase64),
  ].join("\n");
  return {
    keys: `${log.verifierKey}\n${witness.verifierKey}`,
    tree,
    checkpoint: text,
    note,
    cosigned,
    proofs,
    receipt: formatReceipt({
      extra: utf8(bodies[3] as string),
      index: 3,
      proof: incl,
      checkpointNote: cosigned,
    }),
  };
}
