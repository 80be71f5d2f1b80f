/**
 * A KMS provider with every call observed (keywarden/observability: calls, latency, a span);
 * while observability is off, each call goes straight to the provider.
 */
import { observeKmsCall } from "../../observability/hooks.js";
import type { KmsProvider } from "./provider.js";

/**
 * `kms` with its calls observed. Idempotent: an observed provider is returned as is.
 *
 * @example
 * ```ts
 * const kms = observedKms(LocalKms.fromKeyFile("master.key"));
 * ```
 * @throws never.
 */
export function observedKms(kms: KmsProvider): KmsProvider {
  if (OBSERVED.has(kms)) return kms;
  const observed: KmsProvider = {
    name: kms.name,
    generateDataKey: (context, auth) =>
      observeKmsCall(kms.name, "generateDataKey", () => kms.generateDataKey(context, auth)),
    decrypt: (wrapped, context, auth) =>
      observeKmsCall(kms.name, "decrypt", () => kms.decrypt(wrapped, context, auth)),
    reEncrypt: (wrapped, from, to, auth) =>
      observeKmsCall(kms.name, "reEncrypt", () => kms.reEncrypt(wrapped, from, to, auth)),
  };
  OBSERVED.add(observed);
  return observed;
}

const OBSERVED = new WeakSet<KmsProvider>();
