/**
 * The ccxt loader turns an exchange id into a module path (`ccxt/js/src/<id>.js`): only a
 * well-formed lowercase id ever gets that far. A malformed id is refused as an invalid argument
 * before any import is attempted (a well-formed id ccxt does not have is "not supported" instead:
 * that one was looked up).
 */
import { describe, expect, it } from "vitest";
import { loadCcxtExchange } from "../../src/ccxt-loader.js";
import { isKeywardenError } from "../../src/errors.js";

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "loaded",
    (e: unknown) => (isKeywardenError(e) ? e.code : "untyped"),
  );

describe("ccxt loader", () => {
  it("only a well-formed exchange id is turned into a module path", async () => {
    for (const id of [
      "../../../etc/passwd",
      "binance/../okx",
      "./binance",
      "/abs/path",
      "Binance",
      "bin ance",
      "binance.js",
      "binance?x",
      "node:fs",
      "",
      "a".repeat(200),
      42 as unknown as string,
      undefined as unknown as string,
    ]) {
      expect(await codeOf(loadCcxtExchange(id)), String(id)).toBe("ERR_INVALID_ARGUMENT");
    }
    // Well-formed: a real exchange loads; an absent one was looked up and is not supported.
    expect(await codeOf(loadCcxtExchange("binance"))).toBe("loaded");
    expect(await codeOf(loadCcxtExchange("nosuchexchangexyz"))).toBe("ERR_NOT_SUPPORTED");
  });
});
