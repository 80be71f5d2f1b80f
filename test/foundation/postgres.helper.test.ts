import { existsSync } from "node:fs";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { createDatabase, startPostgres } from "../support/postgres.js";
import { describeWithPostgres, pgUrl } from "../support/services.js";

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describeWithPostgres("throwaway PostgreSQL helper", () => {
  it("serves a real PostgreSQL bound to 127.0.0.1 only, with password auth", async () => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: pgUrl as string });
    await client.connect();
    try {
      const { rows } = await client.query(
        "select current_setting('listen_addresses') as listen, version() as v",
      );
      expect(rows[0].listen).toBe("127.0.0.1");
      expect(rows[0].v).toMatch(/^PostgreSQL \d+/);
    } finally {
      await client.end();
    }
    const bad = new URL(pgUrl as string);
    bad.password = "wrong";
    const intruder = new pg.Client({ connectionString: bad.toString() });
    await expect(intruder.connect()).rejects.toThrow(/password authentication failed/);
  });

  it("creates isolated databases", async () => {
    const url = await createDatabase(pgUrl as string);
    expect(new URL(url).pathname).toMatch(/^\/t_[0-9a-f]{12}$/);
  });

  it("stop() shuts the server down and removes its directory", async () => {
    const server = await startPostgres();
    expect(await portOpen(server.port)).toBe(true);
    expect(existsSync(server.dir)).toBe(true);
    await server.stop();
    await server.stop(); // idempotent
    expect(await portOpen(server.port)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  }, 60_000);
});

describe("service requirement", () => {
  it("CI cannot skip PostgreSQL suites: with KEYWARDEN_REQUIRE_SERVICES=1 a server was started", () => {
    if (process.env.KEYWARDEN_REQUIRE_SERVICES === "1") expect(pgUrl).not.toBeNull();
    expect(existsSync("/usr/lib/postgresql") || pgUrl === null).toBe(true);
  });
});
