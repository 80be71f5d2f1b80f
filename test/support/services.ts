import { describe, inject } from "vitest";

/** Admin URL of the run's throwaway PostgreSQL server (null only off CI, where it may be absent). */
export const pgUrl: string | null = inject("pgUrl");

/**
 * `describe` for suites that need the real PostgreSQL server. Off CI they are skipped when no
 * server could be started; on CI (KEYWARDEN_REQUIRE_SERVICES=1) the global setup fails instead.
 */
export const describeWithPostgres = describe.skipIf(pgUrl === null);
