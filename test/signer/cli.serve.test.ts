import { spawn } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");

const get = (socketPath: string, path: string) =>
  new Promise<{ status: number; body: string }>((ok, fail) => {
    const req = request({ socketPath, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });

describe("keywarden serve", () => {
  it("serves on a 0600 socket in the data directory, answers /healthz and /readyz, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kw-serve-"));
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "serve",
        "--data-dir",
        join(dir, "data"),
        "--operator-token-file",
        join(dir, "op.token"),
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    await new Promise<void>((ok, fail) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes("listening on")) ok();
      });
      child.on("exit", (code) => fail(new Error(`exited ${code}: ${stderr}`)));
    });
    const socketPath = join(dir, "data", "signer.sock");
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "op.token")).mode & 0o777).toBe(0o600);
    expect((await get(socketPath, "/healthz")).status).toBe(200);
    expect(await get(socketPath, "/readyz")).toMatchObject({ status: 200 });
    const code = await new Promise<number | null>((ok) => {
      child.on("exit", ok);
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
    // The log lines are pino JSON and carry no authorization.
    for (const line of stdout.trim().split("\n").filter(Boolean))
      expect(() => JSON.parse(line)).not.toThrow();
  }, 60_000);
});
