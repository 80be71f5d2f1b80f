import { describe, expect, it } from "vitest";
import * as guard from "../../src/guard/index.js";
import { guardRuntime } from "../../src/guard/runtime.js";
import * as testing from "../../src/guard/testing/index.js";

describe("keywarden/guard entry points", () => {
  it("the production entry exports no test switch", () => {
    expect(Object.keys(guard).sort()).toEqual([
      "RLS_USER_SETTING",
      "SESSION_ALGORITHMS",
      "assertIdentity",
      "assertUserId",
      "createMemoryTable",
      "createSessionVerifier",
      "currentIdentity",
      "handlerEntryOf",
      "hostIdentity",
      "isIdentity",
      "isIdentityLive",
      "listHandlers",
      "loadedRow",
      "loadedRows",
      "operatorIdentity",
      "owned",
      "publicHandler",
      "requireIdentity",
      "rlsSetupSql",
      "runAs",
      "runAsNobody",
      "withUserTransaction",
    ]);
  });

  it("the process-global runtime carries no switch either", () => {
    const runtime = guardRuntime();
    expect(Object.keys(runtime).sort()).toEqual([
      "context",
      "handlers",
      "identities",
      "marks",
      "version",
    ]);
    expect(Object.getOwnPropertySymbols(runtime)).toEqual([]);
  });

  it("the testing entry is the kit", () => {
    expect(Object.keys(testing).sort()).toEqual([
      "assertIsolation",
      "createEffectRecorder",
      "dumpTable",
      "formatFindings",
      "overwriteRow",
      "recordCalls",
      "runIsolationSuite",
      "snapshotPgTables",
    ]);
  });
});
