import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { SimulatedExchangeId } from "../../src/permissions/testing/index.js";

/** The small part of a ccxt exchange instance the simulator tests use. */
export interface CcxtInstance {
  urls: { api?: unknown };
  options: Record<string, unknown>;
  markets: unknown;
  timeout: number;
  verbose: boolean;
  [method: string]: unknown;
}

type CcxtClass = new (config: Record<string, unknown>) => CcxtInstance;

/**
 * Loads ONE ccxt exchange class by file URL (reference §1: `ccxt/js/src/<id>.js` is not exported,
 * but resolving the package entry and importing the sibling file works and skips the other 100+).
 */
export async function loadExchangeClass(id: SimulatedExchangeId): Promise<CcxtClass> {
  const entry = import.meta.resolve("ccxt");
  const mod = (await import(new URL(`./src/${id}.js`, entry).href)) as { default: CcxtClass };
  return mod.default;
}

/** Test credentials shaped the way each exchange (and ccxt's signer) expects them. */
export interface TestCredentials {
  apiKey: string;
  secret: string;
  password?: string;
  uid?: string;
}

const coinbaseKey = generateKeyPairSync("ec", { namedCurve: "prime256v1" });

export function testCredentials(id: SimulatedExchangeId, tag = "a"): TestCredentials {
  const suffix = `${tag}${randomBytes(4).toString("hex")}`;
  switch (id) {
    case "coinbase":
      return {
        apiKey: `organizations/0a1b2c3d-${suffix}/apiKeys/4e5f6a7b-${suffix}`,
        secret: coinbaseKey.privateKey.export({ type: "sec1", format: "pem" }).toString(),
      };
    case "kraken":
      return { apiKey: `kraken-${suffix}`, secret: randomBytes(64).toString("base64") };
    case "gemini":
      return { apiKey: `account-${suffix}`, secret: `gemini-secret-${suffix}` };
    case "hyperliquid":
      // The account address and an agent's private key (ccxt: walletAddress, privateKey).
      return {
        apiKey: `0x${randomBytes(20).toString("hex")}`,
        secret: `0x${randomBytes(32).toString("hex")}`,
      };
    case "okx":
    case "kucoin":
    case "bitget":
      return {
        apiKey: `${id}-${suffix}`,
        secret: `${id}-secret-${suffix}`,
        password: `pass-${suffix}`,
      };
    default:
      return { apiKey: `${id}-${suffix}`, secret: `${id}-secret-${suffix}` };
  }
}

/** A different, equally well-formed secret (for "wrong secret" tests). */
export function wrongSecret(id: SimulatedExchangeId): string {
  if (id === "coinbase") {
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    return other.privateKey.export({ type: "sec1", format: "pem" }).toString();
  }
  if (id === "kraken") return randomBytes(64).toString("base64");
  if (id === "hyperliquid") return `0x${randomBytes(32).toString("hex")}`;
  return `wrong-secret-${randomBytes(4).toString("hex")}`;
}
