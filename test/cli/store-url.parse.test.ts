import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { inspect } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { audit } from "../../src/cli/audit.js";
import type { CliIo } from "../../src/cli/io.js";
import { pgpassLookup, readPgpass } from "../../src/cli/pgpass.js";
import { runCli } from "../../src/cli/run.js";
import { describeStoreUrl, parseStoreUrl } from "../../src/cli/store-url.js";
import { isKeywardenError } from "../../src/errors.js";

const CANARY = "Canary-Pa55word-7f3a";

function refusal(fn: () => unknown): { code: string; reason: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    if (!isKeywardenError(err)) throw err;
    return { code: err.code, reason: err.details?.reason, message: err.message };
  }
  throw new Error("expected a refusal");
}

describe("parseStoreUrl", () => {
  it("parses the four kinds of store URL", () => {
    expect(parseStoreUrl("file:data/audit.jsonl", "argv", {})).toEqual({
      kind: "file",
      path: "data/audit.jsonl",
    });
    expect(parseStoreUrl("sqlite:/var/lib/kw/audit.db", "argv", {})).toEqual({
      kind: "sqlite",
      path: "/var/lib/kw/audit.db",
    });
    expect(
      parseStoreUrl("postgres://audit@db.internal:6432/kw?sslmode=verify-full", "argv", {}),
    ).toEqual({
      kind: "postgres",
      connection: {
        host: "db.internal",
        port: 6432,
        user: "audit",
        database: "kw",
        sslmode: "verify-full",
        applicationName: undefined,
      },
    });
    expect(
      parseStoreUrl(
        "dynamodb://Audit_Chains.v1?region=eu-west-1&endpoint=http://127.0.0.1:8000",
        "argv",
        {},
      ),
    ).toEqual({
      kind: "dynamodb",
      table: "Audit_Chains.v1",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:8000",
      homeRegion: undefined,
    });
  });

  it("fills omitted PostgreSQL parts from the PG* environment", () => {
    const env = { PGHOST: "/run/postgresql", PGPORT: "5433", PGUSER: "ops", PGDATABASE: "kw" };
    expect(parseStoreUrl("postgres://", "argv", env)).toMatchObject({
      connection: { host: "/run/postgresql", port: 5433, user: "ops", database: "kw" },
    });
    expect(parseStoreUrl("postgresql://[::1]/x", "argv", {})).toMatchObject({
      connection: { host: "::1", database: "x" },
    });
  });

  it("a password typed on the command line is refused, and never echoed", () => {
    const r = refusal(() => parseStoreUrl(`postgres://u:${CANARY}@h/db`, "argv", {}));
    expect(r).toMatchObject({ code: "ERR_INVALID_ARGUMENT", reason: "password-on-command-line" });
    expect(r.message).not.toContain(CANARY);
    // From the environment (--store-env) the password is accepted, and still never described.
    const fromEnv = parseStoreUrl(`postgres://u:${CANARY}@h/db`, "env", {});
    expect(fromEnv.kind).toBe("postgres");
    const password = fromEnv.kind === "postgres" ? fromEnv.urlPassword : undefined;
    expect(password?.useText((t) => t)).toBe(CANARY);
    // The parsed URL can be printed or serialized without showing the password.
    expect(JSON.stringify(fromEnv)).not.toContain(CANARY);
    expect(inspect(fromEnv, { depth: 5 })).not.toContain(CANARY);
    expect(describeStoreUrl(fromEnv)).toBe("postgres://u@h/db");
  });

  it("types every malformed URL and never echoes the text of one it cannot parse", () => {
    const cases: Array<[string, string]> = [
      ["", "empty"],
      ["mysql://h/db", "unknown-scheme"],
      ["sqlite:", "missing-path"],
      [`postgres://u:${CANARY}@h:99999999/db`, "malformed"],
      ["postgres://h/db?password=x", "unknown-parameter"],
      ["postgres://h/db?sslmode=prefer", "invalid-parameter"],
      [`dynamodb://key:${CANARY}@table`, "credentials-in-url"],
      ["dynamodb://t", "malformed"],
      ["dynamodb://table/extra", "malformed"],
      [`dynamodb://table?region=${CANARY}`, "invalid-parameter"],
      ["dynamodb://table?region=eu-west-1&region=us-east-1", "invalid-parameter"],
      ["dynamodb://table?secret=1", "unknown-parameter"],
    ];
    for (const [text, reason] of cases) {
      const r = refusal(() => parseStoreUrl(text, "env", {}));
      expect(r, text).toMatchObject({ code: "ERR_INVALID_ARGUMENT", reason });
      expect(r.message).not.toContain(CANARY);
    }
  });
});

describe("pgpass", () => {
  const target = { host: "db.internal", port: 5432, database: "kw", user: "audit" };
  it("matches fields, wildcards and escapes as the PostgreSQL manual describes", () => {
    const text = [
      "# comment line",
      "other:5432:kw:audit:wrong",
      "db.internal:5432:kw:audit:pa\\:ss\\\\word",
      "*:*:*:*:fallback",
    ].join("\n");
    expect(pgpassLookup(text, target)).toBe("pa:ss\\word");
    expect(pgpassLookup(text, { ...target, user: "someone" })).toBe("fallback");
    expect(pgpassLookup("localhost:5432:*:audit:sock", { ...target, host: "/run/pg" })).toBe(
      "sock",
    );
    expect(pgpassLookup("db.internal:5433:kw:audit:x", target)).toBeUndefined();
  });

  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  it("ignores a password file that group or others can read", async () => {
    const d = await mkdtemp(join(tmpdir(), "kw-pgpass-"));
    dirs.push(d);
    const file = join(d, "pgpass");
    await writeFile(file, "*:*:*:*:secret\n", { mode: 0o600 });
    expect(await readPgpass({ PGPASSFILE: file }, target)).toBe("secret");
    await chmod(file, 0o644);
    expect(await readPgpass({ PGPASSFILE: file }, target)).toBeUndefined();
  });
});

describe("the CLI with a bad --store", () => {
  it("exits with a typed error, never printing the password", async () => {
    for (const cmd of [
      ["export", "--chain", "operator", "--format", "jsonl"],
      ["prove", "--chain", "operator", "--seq", "0"],
      ["verify", "--chain", "operator"],
    ]) {
      const out = new PassThrough();
      const err = new PassThrough();
      let text = "";
      out.on("data", (d) => (text += d));
      err.on("data", (d) => (text += d));
      const io: CliIo = { stdout: out, stderr: err, stdin: new PassThrough(), env: {}, cwd: "/" };
      const code = await runCli(
        ["audit", ...cmd, "--store", `postgres://u:${CANARY}@127.0.0.1:1/db`],
        io,
        { audit: async () => audit },
      );
      expect(code, cmd[0]).toBe(1);
      expect(text).toContain("ERR_INVALID_ARGUMENT");
      expect(text).not.toContain(CANARY);
    }
  });
});
