/**
 * The Go toolchain and golang.org/x/mod sources (Debian: golang-go, golang-golang-x-mod-dev) for the
 * interop suites. Builds run offline in GOPATH mode against /usr/share/gocode: GO111MODULE=off,
 * GOFLAGS unset, GOCACHE in a temporary directory, no network. Off CI the suites skip when Go is
 * missing; with KEYWARDEN_REQUIRE_SERVICES=1 a missing toolchain fails the suite instead.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GOPATH = "/usr/share/gocode";

function goAvailable(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
  } catch {
    return false;
  }
  return existsSync(join(GOPATH, "src/golang.org/x/mod/sumdb/tlog"));
}

/** True when Go and x/mod are installed. */
export const hasGo: boolean = goAvailable();
/** True when CI demands every service-backed suite run. */
export const goRequired: boolean = process.env.KEYWARDEN_REQUIRE_SERVICES === "1";

/** Builds the Go program in `pkgDir` offline; returns the binary's path. */
export function buildGoProgram(pkgDir: string): string {
  const out = mkdtempSync(join(tmpdir(), "kw-go-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: "off",
    GOPATH,
    GOCACHE: join(out, "cache"),
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
  };
  delete env.GOFLAGS;
  const bin = join(out, "prog");
  execFileSync("go", ["build", "-o", bin, "."], { cwd: pkgDir, env, stdio: "pipe" });
  return bin;
}
