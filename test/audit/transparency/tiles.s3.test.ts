/**
 * C2SP tlog-tiles published to an S3-compatible bucket with the real `@aws-sdk/client-s3`, against
 * an independent S3 implementation on 127.0.0.1: moto's server mode (`moto_server`, Python; it
 * implements PutObject's `If-None-Match: *` conditional write with 412 Precondition Failed, as AWS
 * documents for conditional writes). The bucket is then read back by the library's tile reader
 * over plain HTTP GET, as a CDN or static client would. moto is not in Debian's packages and CI
 * reaches no Python registry, so this file is skipped where `moto_server` is not on the PATH (its
 * title then says so); set KEYWARDEN_REQUIRE_S3=1 to make a missing moto_server fail instead.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeadsLog } from "../../../src/audit/transparency/heads/index.js";
import { parseVerifierKey } from "../../../src/audit/transparency/note.js";
import { verifyReceipt } from "../../../src/audit/transparency/receipt.js";
import { LocalEd25519Signer } from "../../../src/audit/transparency/signer.js";
import {
  httpTileFetcher,
  TileLogClient,
  type TileStorage,
} from "../../../src/audit/transparency/tiles/index.js";
import { s3TileStorage } from "../../../src/audit/transparency/tiles/s3.js";
import { isKeywardenError } from "../../../src/errors.js";
import { Secret } from "../../../src/secret.js";

const HEADS = "audit.example.com/keywarden-heads";
const required = process.env.KEYWARDEN_REQUIRE_S3 === "1";
const motoPath = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
})();
const describeS3 = motoPath || required ? describe : describe.skip;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describeS3(
  motoPath
    ? "tiles on an S3-compatible bucket (@aws-sdk/client-s3 ↔ moto_server on 127.0.0.1)"
    : "tiles on an S3-compatible bucket — skipped: moto_server is not installed",
  () => {
    let server: ChildProcess | undefined;
    let endpoint = "";
    let client: S3Client;
    const sent: { name: string; key?: string; ifNoneMatch?: string }[] = [];
    let bucketNo = 0;

    beforeAll(async () => {
      if (!motoPath) throw new Error("moto_server is not installed (KEYWARDEN_REQUIRE_S3=1)");
      const port = await freePort();
      endpoint = `http://127.0.0.1:${port}`;
      server = spawn(motoPath, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
      for (let i = 0; ; i++) {
        try {
          await fetch(`${endpoint}/`);
          break;
        } catch {
          if (i > 150) throw new Error("moto_server did not start");
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      client = new S3Client({
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Key?: string; IfNoneMatch?: string };
          sent.push({
            name: String(context.commandName),
            ...(input.Key === undefined ? {} : { key: input.Key }),
            ...(input.IfNoneMatch === undefined ? {} : { ifNoneMatch: input.IfNoneMatch }),
          });
          return next(args);
        },
        { step: "initialize" },
      );
    }, 30_000);
    afterAll(() => {
      client?.destroy();
      server?.kill();
    });

    async function bucket(): Promise<string> {
      const name = `kw-tiles-${++bucketNo}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      // What an operator does to serve tiles to anyone: a public-read bucket policy.
      await client.send(
        new PutBucketPolicyCommand({
          Bucket: name,
          Policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: `arn:aws:s3:::${name}/*`,
              },
            ],
          }),
        }),
      );
      return name;
    }

    it("the heads log published to a bucket: receipts verify, a plain HTTP GET reader sees the same log, and it reopens", async () => {
      const Bucket = await bucket();
      const storage = await s3TileStorage({ client, bucket: Bucket, prefix: "heads/" });
      const { signer } = LocalEd25519Signer.generate(HEADS);
      const logKeys = [parseVerifierKey(signer.verifierKey)];
      const open = () =>
        HeadsLog.open({
          storage,
          origin: HEADS,
          signer,
          headsSecret: Secret.copyOf(new Uint8Array(32).fill(4)),
        });
      const heads = await open();
      const head = (i: number) => ({
        origin: `audit.example.com/keywarden/user:u${i}`,
        size: i + 1,
        rootHash: new Uint8Array(32).fill(i % 251),
        timestamp: 1764400000 + i,
      });
      // 300 leaves: one full level-0 tile and entry bundle, then partial ones.
      for (let i = 0; i < 300; i++) heads.enqueue(head(i));
      await heads.integrate();
      for (let i = 300; i < 310; i++) heads.enqueue(head(i));
      const batch = await heads.integrate();
      expect(batch?.size).toBe(310);

      const overHttp = new TileLogClient(httpTileFetcher(`${endpoint}/${Bucket}/heads/`));
      expect(await overHttp.checkpointNote()).toBe(heads.checkpointNote);
      for (const i of [0, 255, 256, 299, 309]) {
        const text = await heads.receipt(i, overHttp);
        expect(verifyReceipt(text, { logKeys, origin: HEADS }).index).toBe(i);
        expect(await heads.receipt(i)).toBe(text);
      }
      const tiles = sent.filter((s) => s.name === "PutObjectCommand" && s.key?.includes("/tile/"));
      expect(tiles.length).toBeGreaterThan(0);
      expect(tiles.every((s) => s.ifNoneMatch === "*")).toBe(true);

      const reopened = await open();
      expect(reopened.size).toBe(310);
      reopened.enqueue(head(310));
      expect((await reopened.integrate())?.size).toBe(311);
      expect(await overHttp.checkpointNote()).toBe(reopened.checkpointNote);
    });

    it("the checkpoint is written last: after every tile and bundle of its tree", async () => {
      const Bucket = await bucket();
      const storage = await s3TileStorage({ client, bucket: Bucket });
      const { signer } = LocalEd25519Signer.generate(HEADS);
      const heads = await HeadsLog.open({
        storage,
        origin: HEADS,
        signer,
        headsSecret: Secret.copyOf(new Uint8Array(32).fill(4)),
      });
      for (let i = 0; i < 40; i++)
        heads.enqueue({
          origin: `audit.example.com/keywarden/user:v${i}`,
          size: 1,
          rootHash: new Uint8Array(32).fill(i),
          timestamp: 1764400000,
        });
      const from = sent.length;
      await heads.integrate();
      const puts = sent.slice(from).filter((s) => s.name === "PutObjectCommand");
      expect(puts.length).toBeGreaterThan(2);
      expect(puts.at(-1)?.key).toBe("checkpoint");
      expect(puts.filter((p) => p.key === "checkpoint").length).toBe(1);
      expect(puts.at(-1)?.ifNoneMatch).toBeUndefined();
    });

    it("the server itself refuses a conditional overwrite (412), so the conditional path is exercised for real", async () => {
      const Bucket = await bucket();
      await client.send(new PutObjectCommand({ Bucket, Key: "k", Body: "a", IfNoneMatch: "*" }));
      const err = await client
        .send(new PutObjectCommand({ Bucket, Key: "k", Body: "b", IfNoneMatch: "*" }))
        .catch((e: unknown) => e);
      expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(
        412,
      );
      const got = await client.send(new GetObjectCommand({ Bucket, Key: "k" }));
      expect(await got.Body?.transformToString()).toBe("a");
    });

    it("Precondition: a tile covered by the published checkpoint is never replaced in the bucket; different bytes are an invariant failure", async () => {
      // Both write modes: If-None-Match: * (conditional PUT), and HEAD, then PUT.
      for (const conditionalWrites of [true, false]) {
        const Bucket = await bucket();
        const storage: TileStorage = await s3TileStorage({
          client,
          bucket: Bucket,
          prefix: "log/",
          conditionalWrites,
        });
        const a = new Uint8Array(32).fill(1);
        const b = new Uint8Array(32).fill(2);
        await storage.putImmutable("tile/0/000.p/1", a);
        await storage.putImmutable("tile/0/000.p/1", a); // same bytes: fine
        const err = await storage.putImmutable("tile/0/000.p/1", b).catch((e: unknown) => e);
        expect(isKeywardenError(err) && err.code).toBe("ERR_AUDIT_STORE_INVARIANT");
        const res = await fetch(`${endpoint}/${Bucket}/log/tile/0/000.p/1`);
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(a);
        expect(await storage.fetcher.fetch("tile/0/000.p/2")).toBeUndefined();
        // Beyond the published checkpoint (an orphan of an unpublished batch): replaced.
        await storage.putImmutable("tile/0/000.p/1", b, { uncovered: true });
        const again = await fetch(`${endpoint}/${Bucket}/log/tile/0/000.p/1`);
        expect(new Uint8Array(await again.arrayBuffer())).toEqual(b);
      }
    });

    it("refuses a bad bucket or prefix, and reports an unreachable service as ERR_AUDIT_STORE_UNAVAILABLE", async () => {
      for (const bad of [
        { bucket: "" },
        { bucket: "b", prefix: "no-slash" },
        { bucket: "b", prefix: "../x/" },
      ]) {
        const err = await s3TileStorage({ client, ...bad }).catch((e: unknown) => e);
        expect(isKeywardenError(err) && err.code).toBe("ERR_INVALID_ARGUMENT");
      }
      const storage = await s3TileStorage({ client, bucket: "kw-no-such-bucket" });
      const err = await storage.putCheckpoint(new Uint8Array(1)).catch((e: unknown) => e);
      expect(isKeywardenError(err) && err.code).toBe("ERR_AUDIT_STORE_UNAVAILABLE");
    });
  },
);
