/**
 * Without the optional peer `@aws-sdk/client-s3`, the S3 tile binding fails closed with
 * ERR_NOT_SUPPORTED naming the package (the packed-tarball test checks the same from the built
 * subpath `keywarden/audit/tiles-s3` in a project where the peer is not installed).
 */
import { expect, it, vi } from "vitest";
import { isKeywardenError } from "../../../src/errors.js";

it("s3TileStorage without @aws-sdk/client-s3 is ERR_NOT_SUPPORTED naming the peer", async () => {
  vi.doMock("@aws-sdk/client-s3", () => {
    throw new Error("Cannot find package '@aws-sdk/client-s3'");
  });
  const { s3TileStorage } = await import("../../../src/audit/transparency/tiles/s3.js");
  const err = await s3TileStorage({ client: { send: async () => ({}) }, bucket: "b" }).catch(
    (e: unknown) => e,
  );
  expect(isKeywardenError(err) && err.code).toBe("ERR_NOT_SUPPORTED");
  expect(String((err as Error).message)).toContain("@aws-sdk/client-s3");
  vi.doUnmock("@aws-sdk/client-s3");
});
