/**
 * The audit log's secret scan: no payload that carries a Secret, a credential-named field or a
 * PEM private key is ever committed, at any depth, through any action (a lenient host action
 * included); the error names the path, never the value.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ActionCatalog, AuditLog, userChainId } from "../../../src/audit/core/index.js";
import { createMemoryAuditStore } from "../../../src/audit/storage/index.js";
import { isKeywardenError } from "../../../src/errors.js";
import { hostIdentity, runAs } from "../../../src/guard/index.js";
import { Secret } from "../../../src/secret.js";
import { canary } from "../../vault/helpers.js";

const CHAIN = userChainId("alice");

describe("audit payload secret scan", () => {
  it("an audit payload never contains a Secret or a credential field", async () => {
    const store = createMemoryAuditStore();
    // A host action that accepts any object: the scan runs before (and despite) its schema.
    const lenient = new ActionCatalog({
      "host.note": { chain: "user", schema: z.record(z.string(), z.unknown()) },
    });
    const log = new AuditLog({ store, actions: lenient });
    const value = canary();
    const pem = `-----BEGIN EC PRIVATE KEY-----\n${value}\n-----END EC PRIVATE KEY-----`;
    const cases: Array<[unknown, string]> = [
      [{ s: Secret.fromString(value) }, "$.s"],
      [{ a: [{ b: [1, Secret.fromString(value)] }] }, "$.a[0].b[1]"],
      [{ nested: { apiKey: "k" } }, "$.nested.apiKey"],
      [{ API_SECRET: "x" }, "$.API_SECRET"],
      [{ list: [{ "my-passphrase": "x" }] }, "$.list[0].my-passphrase"],
      [{ note: pem }, "$.note"],
    ];
    for (const [payload, path] of cases) {
      let err: unknown;
      try {
        await runAs(hostIdentity("alice"), () =>
          log.appendEntry(CHAIN, { action: "host.note", payload }),
        );
      } catch (e) {
        err = e;
      }
      expect(isKeywardenError(err, "ERR_AUDIT_SECRET_IN_PAYLOAD"), path).toBe(true);
      expect((err as { details?: { path?: string } }).details?.path, path).toBe(path);
      expect(
        JSON.stringify({ m: (err as Error).message, d: (err as { details?: unknown }).details }),
      ).not.toContain(value);
    }
    // Nothing was committed; a clean payload still is.
    expect((await store.head(CHAIN)).size).toBe(0);
    await runAs(hostIdentity("alice"), () =>
      log.appendEntry(CHAIN, { action: "host.note", payload: { credentialCount: 2, note: "ok" } }),
    );
    expect((await store.head(CHAIN)).size).toBe(1);
    for await (const e of store.read(CHAIN, 0)) expect(e.payload ?? "").not.toContain(value);
  });
});
