import { type IsolationOptions, runIsolationSuite } from "./suite.js";
import type { IsolationFinding, IsolationReport, IsolationSurface } from "./surface.js";

/** The error {@link assertIsolation} throws: an assertion failure listing every finding. */
export interface AssertIsolationError extends Error {
  readonly name: "AssertionError";
  readonly report: IsolationReport;
}

/**
 * One line per finding: `surface › handler › variant [run]: observed effect`.
 *
 * @example
 * ```ts
 * if (!report.ok) throw new Error(formatFindings(report.surface, report.findings));
 * ```
 * @throws never
 */
export function formatFindings(surface: string, findings: readonly IsolationFinding[]): string {
  return findings
    .map((f) => `${surface} › ${f.handler} › ${f.variant} [${f.run}]: ${f.problem}`)
    .join("\n");
}

/**
 * Runs {@link runIsolationSuite} and throws an `AssertionError` (recognised by vitest, jest and
 * node:test) naming every handler, variant and observed effect when anything fails. The kit does
 * not depend on any test runner.
 *
 * @example
 * ```ts
 * import { assertIsolation } from "keywarden/guard/testing";
 * it("user A cannot reach user B's orders", () => assertIsolation(ordersSurface));
 * ```
 * @throws {AssertIsolationError} when the report has findings.
 */
export async function assertIsolation<W>(
  surface: IsolationSurface<W>,
  options?: IsolationOptions,
): Promise<IsolationReport> {
  const report = await runIsolationSuite(surface, options);
  if (!report.ok) {
    const err = new Error(
      `isolation failed (${report.findings.length} finding${report.findings.length === 1 ? "" : "s"}):\n${formatFindings(report.surface, report.findings)}`,
    ) as Error & { report: IsolationReport };
    err.name = "AssertionError";
    err.report = report;
    throw err;
  }
  return report;
}
