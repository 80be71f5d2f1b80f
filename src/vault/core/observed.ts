/**
 * Observes credential opens of a vault (keywarden/observability): counted as opened when the
 * secrets reach the host's callback, as failed when the vault refuses or cannot decrypt.
 */
import { observeCredentialOpen } from "../../observability/hooks.js";
import type { Vault } from "./vault.js";

/**
 * Installs the observed `withCredentials` on `vault` (an own property over the prototype's).
 *
 * @internal
 */
export function observeVault(vault: Vault): Vault {
  const open = vault.withCredentials.bind(vault);
  const observed: Vault["withCredentials"] = (identity, credentialId, fn, options) =>
    observeCredentialOpen(
      typeof identity?.kind === "string" ? identity.kind : "unknown",
      (opened) =>
        open(
          identity,
          credentialId,
          (creds) => {
            opened();
            return fn(creds);
          },
          options,
        ),
    );
  Object.defineProperty(vault, "withCredentials", { value: observed, enumerable: false });
  return vault;
}
