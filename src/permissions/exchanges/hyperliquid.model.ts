/**
 * Hyperliquid's key model. There are no API-key permissions: a key is an Ethereum private key. The
 * account's own key (role `user`) can do everything, including withdrawals and transfers to any
 * address. An API ("agent") wallet approved by the master signs only on its behalf: trading
 * actions, never withdrawals or transfers. `POST /info {"type":"userRole","user":<address>}` tells
 * which one an address is, so the detector asks it about the address DERIVED FROM THE PRIVATE KEY
 * the bot holds (never an address the user claims), and checks that the agent's master is the
 * account the key is used for.
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary } from "./model.js";

const ROLE = primary(
  "https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint#query-a-users-role",
  'Query a user\'s role — role is "missing", "user", "agent", "vault", or "subAccount"; agent: data.user, subAccount: data.master (page text seen through a verbatim copy, rosssaunders/coincise docs/hyperliquid/endpoints/private/query_a_user_s_role.md)',
  '"missing", "user", "agent", "vault", or "subAccount"',
);
const API_WALLETS = primary(
  "https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/nonces-and-api-wallets",
  "API Wallets — “A master account can approve API wallets to sign on behalf of the master account or any of the sub-accounts … API wallets are only used to sign.”",
  "A master account can approve API wallets to sign on behalf of the master account or any of the sub-accounts",
);
const AGENT_EXAMPLE = primary(
  "https://github.com/hyperliquid-dex/hyperliquid-python-sdk/blob/master/examples/basic_agent.py",
  "basic_agent.py, the comment above approve_agent()",
  "Create an agent that can place trades on behalf of the account. The agent does not have permission to transfer or withdraw funds.",
);
const USER_ACTIONS = primary(
  "https://github.com/hyperliquid-dex/hyperliquid-python-sdk/blob/master/hyperliquid/exchange.py",
  "Exchange.usd_transfer (usdSend), spot_transfer (spotSend), withdraw_from_bridge (withdraw3), usd_class_transfer, send_asset, sub_account_transfer, sub_account_spot_transfer, vault_usd_transfer, approve_agent",
  "def withdraw_from_bridge(self, amount: float, destination: str) -> Any:",
);

const ALL_MOVES = [
  "POST /exchange withdraw3",
  "POST /exchange usdSend",
  "POST /exchange spotSend",
  "POST /exchange sendAsset",
  "POST /exchange usdClassTransfer",
  "POST /exchange subAccountTransfer",
  "POST /exchange subAccountSpotTransfer",
  "POST /exchange vaultTransfer",
  "POST /exchange approveAgent",
];

/** Hyperliquid. */
export const hyperliquidModel: PermissionModel = {
  exchange: "hyperliquid",
  status: "confirmed",
  endpoint: "POST /info userRole",
  values: [
    {
      value: "user",
      field: "role",
      grants: ["read", "trade", "withdraw", "transfer"],
      fundMovingEndpoints: ALL_MOVES,
      cite: USER_ACTIONS,
      note: "the signer is the account itself: its key signs every user action, withdrawals and transfers included",
    },
    {
      value: "agent",
      field: "role",
      grants: ["read", "trade"],
      fundMovingEndpoints: [],
      cite: AGENT_EXAMPLE,
      note: "an approved API wallet: signs trading actions for data.user; cannot withdraw or transfer. Accepted only when data.user is the account the key is used for",
    },
    {
      value: "vault",
      field: "role",
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: ROLE,
      note: "a vault address has no key of its own to hand out; a signer with this role is unexplained → fail closed",
    },
    {
      value: "subAccount",
      field: "role",
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: ROLE,
      note: "sub-accounts are driven by their master's key or agents; a signer with this role is unexplained → fail closed",
    },
    {
      value: "missing",
      field: "role",
      grants: ["unknown"],
      fundMovingEndpoints: [],
      cite: ROLE,
      note: "not a known address: an expired or pruned agent, or an unfunded wallet that becomes a full user once funded → fail closed",
    },
  ],
  transferPaths: [
    {
      endpoint: "POST /exchange withdraw3",
      moves: "withdrawal to Arbitrum through the bridge",
      requires: ["user"],
      cite: USER_ACTIONS,
    },
    {
      endpoint: "POST /exchange usdSend / spotSend / sendAsset",
      moves: "transfer to any other Hyperliquid address",
      requires: ["user"],
      cite: USER_ACTIONS,
    },
    {
      endpoint: "POST /exchange subAccountTransfer / subAccountSpotTransfer",
      moves: "master ↔ sub-account",
      requires: ["user"],
      cite: USER_ACTIONS,
    },
    {
      endpoint: "POST /exchange vaultTransfer",
      moves: "deposit into / withdraw from a vault",
      requires: ["user"],
      cite: USER_ACTIONS,
    },
    {
      endpoint: "POST /exchange approveAgent",
      moves: "approves another signer (which could then trade the account)",
      requires: ["user"],
      cite: USER_ACTIONS,
    },
  ],
  accountRules: [
    {
      rule: "The queried address is derived from the held private key, not claimed: an agent address claimed beside the master's private key would otherwise pass.",
      cite: API_WALLETS,
    },
    {
      rule: "An agent signs for its master (data.user) and that master's sub-accounts; the detector accepts only when data.user equals the walletAddress the key is used for (a sub-account walletAddress is refused, fail closed).",
      cite: API_WALLETS,
    },
  ],
  notes: [
    "No IP allow-lists exist on Hyperliquid: ipRestricted is always false, so a policy requiring IP restriction refuses every Hyperliquid key.",
    "subAccountTransfer and vaultTransfer are L1 actions (phantom-agent signed); the official SDK example states that agents cannot transfer, which the model follows.",
    "Needs the binding to derive the signer address from the secret (key.signer); without it the plan aborts with PERMISSION_UNKNOWN.",
  ],
};
