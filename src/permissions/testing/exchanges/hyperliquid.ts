import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import {
  type AuthResult,
  type ExchangeSpec,
  parseJsonBody,
  type RegisteredKey,
  reply,
  type SimResponse,
} from "../exchange-spec.js";

/*
 * Hyperliquid (hyperliquid.gitbook.io, "Info endpoint" and "Nonces and API wallets"). A key is an
 * Ethereum private key; nothing is signed to ask about one: `POST /info` is public and answers
 * about any address. A registered test key is `apiKey` = the account address (ccxt's
 * `walletAddress`) and `secret` = the private key (ccxt's `privateKey`); the simulator derives the
 * key's own address from it and maps the permission flags onto the documented roles:
 * - withdraw or transfer → the secret is an account's own key: `{"role":"user"}`;
 * - trade only → an API (agent) wallet approved by `apiKey`:
 *   `{"role":"agent","data":{"user":<apiKey>}}`, and listed by `extraAgents` of `apiKey`;
 * - neither → an address the chain does not know (an expired or pruned agent):
 *   `{"role":"missing"}`.
 * Every `POST /exchange` action (orders, transfers, withdrawals) is refused and counted.
 */

const text = (status: number, body: string) => reply(status, body);

/**
 * Hyperliquid has no key-level errors on `/info` (an unknown signer is role "missing"); `/exchange`
 * answers errors as `{"status":"err","response":<text>}`, and the texts here are the simulator's.
 */
const errors = {
  badSignature: reply(200, { status: "err", response: "User or API Wallet does not exist." }),
  invalidKey: reply(200, { status: "err", response: "User or API Wallet does not exist." }),
  staleTimestamp: reply(200, { status: "err", response: "Invalid nonce" }),
  ipNotAllowed: text(403, "Forbidden"),
  rateLimited: text(429, "Too Many Requests"),
  permissionDenied: reply(200, { status: "err", response: "Action disabled for this wallet." }),
} as const;

/** The 422 Hyperliquid answers for a body it cannot read (text/plain). */
const UNREADABLE = text(422, "Failed to deserialize the JSON body into the target type");
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The EVM address of a secp256k1 private key (`0x` + 64 hex), lower-case. */
export function evmAddressOf(privateKey: string): string {
  const publicKey = secp256k1.getPublicKey(Buffer.from(privateKey.slice(2), "hex"), false);
  return `0x${Buffer.from(keccak_256(publicKey.subarray(1)).subarray(-20)).toString("hex")}`;
}

const addressCache = new WeakMap<RegisteredKey, string>();
function signerOf(key: RegisteredKey): string {
  let address = addressCache.get(key);
  if (address === undefined) {
    address = evmAddressOf(key.secret);
    addressCache.set(key, address);
  }
  return address;
}

/** The documented `userRole` answer for `user`, from the registered keys. */
export function hyperliquidUserRole(
  user: string,
  registered: readonly RegisteredKey[],
): Record<string, unknown> {
  const address = user.toLowerCase();
  for (const key of registered) {
    if (signerOf(key) !== address) continue;
    const p = key.permissions;
    if (p.withdraw || p.transfer) return { role: "user" };
    if (p.trade) return { role: "agent", data: { user: key.apiKey.toLowerCase() } };
  }
  // The account address of a registered key is a user; anything else is unknown to the chain.
  if (registered.some((k) => k.apiKey.toLowerCase() === address)) return { role: "user" };
  return { role: "missing" };
}

function info({
  request,
  registered,
  now,
}: Parameters<ExchangeSpec["routes"][string]["handle"]>[0]): SimResponse {
  const body = parseJsonBody(request.body) as { type?: unknown; user?: unknown } | undefined;
  if (typeof body !== "object" || body === null || typeof body.user !== "string") return UNREADABLE;
  if (!ADDRESS.test(body.user)) return UNREADABLE;
  const keys = registered();
  if (body.type === "userRole") return reply(200, hyperliquidUserRole(body.user, keys));
  if (body.type === "extraAgents") {
    const user = body.user.toLowerCase();
    const agents = keys
      .filter((k) => k.apiKey.toLowerCase() === user && k.permissions.trade)
      .filter((k) => !k.permissions.withdraw && !k.permissions.transfer)
      .map((k, i) => ({
        name: `agent${i + 1}`,
        address: signerOf(k),
        validUntil: now + 86_400_000,
      }));
    return reply(200, agents);
  }
  return UNREADABLE;
}

/** Hyperliquid signs nothing the simulator serves: no route is `signed`. */
const authenticate = (): AuthResult => ({ ok: false, reason: "invalidKey" });

export const hyperliquidSpec: ExchangeSpec = {
  id: "hyperliquid",
  claimedApiKey: (request) => {
    const body = parseJsonBody(request.body) as { user?: unknown } | undefined;
    return typeof body?.user === "string" && ADDRESS.test(body.user) ? body.user : undefined;
  },
  authenticate,
  routes: {
    "POST /info": { auth: "public", handle: info },
    "POST /exchange": { auth: "public", withdraw: true, handle: () => errors.permissionDenied },
  },
  errors,
};
