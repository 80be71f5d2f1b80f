/**
 * Poloniex's key model: UNSUPPORTED. Neither the spot API reference (api-docs.poloniex.com/spot)
 * nor the official SDK (poloniex/polo-sdk-python) nor ccxt's route table has an endpoint that
 * reports the calling key's permissions; withdrawal needs a per-key privilege that no read shows.
 *
 * @packageDocumentation
 */
import { type PermissionModel, primary } from "./model.js";

const SDK = "https://github.com/poloniex/polo-sdk-python/blob/master/polosdk/spot/rest";
const WITHDRAW = primary(
  `${SDK}/wallets.py`,
  "Wallets.withdraw (POST /wallets/withdraw) and withdraw_v2 (POST /v2/wallets/withdraw) docstrings",
  "Immediately places a withdrawal for a given currency, with no email confirmation. In order to use this method, withdrawal privilege must be enabled for your API key.",
);
const SUBS = primary(
  `${SDK}/subaccounts.py`,
  "Subaccounts.transfer (POST /subaccounts/transfer) docstring",
  "Primary account can transfer to and from any subaccounts as well as transfer between 2 subaccounts across account types. Subaccount can only transfer to the primary account across account types.",
);

/** Poloniex (unsupported: no read-back, no call is made). */
export const poloniexModel: PermissionModel = {
  exchange: "poloniex",
  status: "unsupported",
  endpoint: null,
  values: [],
  transferPaths: [
    {
      endpoint: "POST /wallets/withdraw, POST /v2/wallets/withdraw",
      moves: "on-chain withdrawal, no email confirmation",
      requires: [],
      cite: WITHDRAW,
    },
    {
      endpoint: "POST /subaccounts/transfer",
      moves: "primary ↔ sub-account and sub → sub (a sub-account key can push to the primary)",
      requires: [],
      cite: SUBS,
    },
  ],
  accountRules: [
    {
      rule: "Both primary and sub-account keys can move funds between accounts of the group; which key permission that needs is not documented.",
      cite: SUBS,
    },
  ],
  notes: [
    "The console permission names of spot keys are not listed in the API reference (the retired futures v1 docs listed General, Trade, Transfer).",
    "ccxt 4.5.84 poloniex.js private routes contain no key-information endpoint.",
  ],
};
