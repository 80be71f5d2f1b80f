import { generateKeyPairSync, randomBytes } from "node:crypto";
import type {
  ExchangeSimulator,
  SimulatedExchangeId,
} from "../../../src/permissions/testing/index.js";
import type { ExchangeId } from "../../../src/permissions/types.js";
import { Secret } from "../../../src/secret.js";

/** Credentials shaped as each exchange's signer expects, with a canary inside each secret. */
export function testKey(id: ExchangeId, tag = "k") {
  const canary = `CANARY${randomBytes(6).toString("hex")}`;
  const n = `${tag}${randomBytes(4).toString("hex")}`;
  switch (id) {
    case "coinbase": {
      const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      return {
        apiKey: `organizations/org-${n}/apiKeys/key-${n}`,
        secret: ec.privateKey.export({ type: "sec1", format: "pem" }).toString(),
        password: undefined,
        canary: `organizations/org-${n}`,
      };
    }
    case "kraken":
      return {
        apiKey: `kraken-${n}`,
        secret: Buffer.from(`${canary}${randomBytes(40).toString("hex")}`).toString("base64"),
        password: undefined,
        canary,
      };
    case "gemini":
      return { apiKey: `account-${n}`, secret: `${canary}-gemini`, password: undefined, canary };
    case "hyperliquid": {
      // An account address and an agent's private key; the key's hex is the canary.
      const privateKey = randomBytes(32).toString("hex");
      return {
        apiKey: `0x${randomBytes(20).toString("hex")}`,
        secret: `0x${privateKey}`,
        password: undefined,
        canary: privateKey,
      };
    }
    case "okx":
    case "kucoin":
    case "bitget":
      return {
        apiKey: `${id}-${n}`,
        secret: `${canary}-secret`,
        password: `PASS${canary}`,
        canary,
      };
    default:
      return { apiKey: `${id}-${n}`, secret: `${canary}-secret`, password: undefined, canary };
  }
}

export type TestKey = ReturnType<typeof testKey>;

export function register(
  sim: ExchangeSimulator,
  id: SimulatedExchangeId,
  k: TestKey,
  permissions: object,
) {
  sim.setKey(id, {
    apiKey: k.apiKey,
    secret: k.secret,
    ...(k.password === undefined ? {} : { passphrase: k.password }),
    permissions,
  });
}

export function secrets(k: TestKey) {
  return {
    apiKey: k.apiKey,
    secret: Secret.fromString(k.secret),
    ...(k.password === undefined ? {} : { password: Secret.fromString(k.password) }),
  };
}
