import { secp256k1 } from "@noble/curves/secp256k1.js";
import { z } from "zod";
import { KeywardenError } from "../../errors.js";
import type { RegisteredKey } from "./exchange-spec.js";
import { SIMULATED_EXCHANGES, type SimulatedExchangeId, type SimulatedKeyInput } from "./types.js";

const printable = z.string().min(1).max(4096);

const keyInputSchema = z.strictObject({
  apiKey: printable,
  secret: printable,
  passphrase: printable.optional(),
  uid: z
    .string()
    .regex(/^[0-9A-Za-z_-]{1,64}$/)
    .optional(),
  permissions: z
    .strictObject({
      read: z.boolean().optional(),
      trade: z.boolean().optional(),
      withdraw: z.boolean().optional(),
      transfer: z.boolean().optional(),
      ipRestricted: z.boolean().optional(),
      ipAllowList: z.array(z.string().min(1).max(64)).max(64).optional(),
    })
    .optional(),
  ipAllowList: z.array(z.string().min(1).max(64)).max(64).optional(),
  balances: z
    .record(z.string().regex(/^[A-Z0-9]{1,12}$/), z.string().regex(/^\d{1,12}(\.\d{1,8})?$/))
    .optional(),
});

const exchangeSchema = z.enum(SIMULATED_EXCHANGES);

/** `0x` + 64 hex digits naming a valid secp256k1 scalar. */
function isPrivateKey(secret: string): boolean {
  if (!/^0x[0-9a-fA-F]{64}$/.test(secret)) return false;
  return secp256k1.utils.isValidSecretKey(Buffer.from(secret.slice(2), "hex"));
}

const NEEDS_PASSPHRASE: ReadonlySet<SimulatedExchangeId> = new Set(["okx", "kucoin", "bitget"]);

/** Validates an exchange id given to the simulator's public API. */
export function parseExchangeId(value: unknown): SimulatedExchangeId {
  const parsed = exchangeSchema.safeParse(value);
  if (!parsed.success) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "unknown simulated exchange id");
  }
  return parsed.data;
}

/** Validates a key registration. Errors never echo the input (it holds a test secret). */
export function parseKeyInput(
  exchange: SimulatedExchangeId,
  input: SimulatedKeyInput,
): RegisteredKey {
  const parsed = keyInputSchema.safeParse(input);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".")).join(",");
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid simulated key", {
      details: { fields },
    });
  }
  const data = parsed.data;
  /* Precondition: OKX, KuCoin and Bitget keys are registered with a passphrase. */
  if (NEEDS_PASSPHRASE.has(exchange) && data.passphrase === undefined) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "this exchange requires a passphrase", {
      details: { exchange },
    });
  }
  /* Precondition: a Hyperliquid key is registered as an account address and a secp256k1 private key. */
  if (
    exchange === "hyperliquid" &&
    !(/^0x[0-9a-fA-F]{40}$/.test(data.apiKey) && isPrivateKey(data.secret))
  ) {
    throw new KeywardenError("ERR_INVALID_ARGUMENT", "invalid simulated key", {
      details: { fields: "apiKey,secret" },
    });
  }
  const list = data.permissions?.ipAllowList ?? [];
  return {
    apiKey: data.apiKey,
    secret: data.secret,
    passphrase: data.passphrase,
    uid: data.uid ?? "100200300",
    permissions: Object.freeze({
      read: data.permissions?.read ?? true,
      trade: data.permissions?.trade ?? false,
      withdraw: data.permissions?.withdraw ?? false,
      transfer: data.permissions?.transfer ?? false,
      ipRestricted: data.permissions?.ipRestricted ?? list.length > 0,
      ipAllowList: Object.freeze([...list]),
    }),
    ipAllowList: data.ipAllowList === undefined ? undefined : Object.freeze([...data.ipAllowList]),
    balances: data.balances === undefined ? undefined : Object.freeze({ ...data.balances }),
    lastNonce: 0n,
    state: new Map(),
  };
}
