import type { TestProject } from "vitest/node";
import { findPostgresBin, startPostgres, type ThrowawayPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin URL of the throwaway PostgreSQL server, or null when none could be started locally. */
    pgUrl: string | null;
  }
}

/**
 * Starts one real PostgreSQL server for the whole run. When KEYWARDEN_REQUIRE_SERVICES=1 (set by
 * .ci/run) a missing server is an error, so no PostgreSQL test can pass by being skipped in CI.
 */
let server: ThrowawayPostgres | undefined;

export async function setup(project: TestProject) {
  const required = process.env.KEYWARDEN_REQUIRE_SERVICES === "1";
  if (!findPostgresBin()) {
    if (required) throw new Error("KEYWARDEN_REQUIRE_SERVICES=1 but PostgreSQL is not installed");
    project.provide("pgUrl", null);
    return;
  }
  server = await startPostgres();
  project.provide("pgUrl", server.url);
}

export async function teardown() {
  await server?.stop();
}
