import type { KMSClient } from "@aws-sdk/client-kms";
import type Database from "better-sqlite3";
import type pg from "pg";
import { describe, expectTypeOf, it } from "vitest";
import type { Secret } from "../../../src/secret.js";
import type { EmergencyVault } from "../../../src/trading/emergency.js";
import type {
  CredentialSecrets,
  KmsProvider,
  Vault,
  VaultEmergencyOps,
  VaultHandlers,
} from "../../../src/vault/index.js";
import type { KmsLike } from "../../../src/vault/kms/aws.js";
import type { LocalKms } from "../../../src/vault/kms/local.js";
import type { PgPoolLike } from "../../../src/vault/stores/postgres/store.js";
import type { SqliteDatabaseLike } from "../../../src/vault/stores/sqlite.js";

describe("public types", () => {
  it("credentials are handed over as Secrets, and the callback's result comes back", () => {
    expectTypeOf<CredentialSecrets[string]>().toEqualTypeOf<Secret>();
    type Open = Vault["withCredentials"];
    expectTypeOf<ReturnType<Open>>().toEqualTypeOf<Promise<unknown>>();
    expectTypeOf<Awaited<ReturnType<typeof open>>>().toEqualTypeOf<number>();
    function open(v: Vault) {
      return v.withCredentials(undefined as never, "c", async () => 42);
    }
  });

  it("the real clients fit the structural interfaces", () => {
    expectTypeOf<KMSClient>().toExtend<KmsLike>();
    expectTypeOf<Database.Database>().toExtend<SqliteDatabaseLike>();
    expectTypeOf<pg.Pool>().toExtend<PgPoolLike>();
    expectTypeOf<LocalKms>().toExtend<KmsProvider>();
  });

  it("the guarded handlers keep the callback's result type; the emergency adapter fits trading", () => {
    expectTypeOf<Awaited<ReturnType<typeof open>>>().toEqualTypeOf<string>();
    function open(h: VaultHandlers) {
      return h.openCredential("c", async () => "x");
    }
    expectTypeOf<VaultEmergencyOps>().toExtend<EmergencyVault>();
  });
});
