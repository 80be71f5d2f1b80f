/**
 * Session tags from the web identity token's `https://aws.amazon.com/tags` claim
 * (`principal_tags: { key: [value] }`, `transitive_tag_keys: [...]`), validated against the STS
 * limits: at most 50 tags, keys 1–128 and values 0–256 characters of the AWS tag character set,
 * no `aws:` prefix, no two keys differing only in case.
 */
import { AwsServiceError } from "./aws-error.js";

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function invalid(message: string): AwsServiceError {
  return new AwsServiceError("InvalidIdentityToken", 400, message);
}

/** Returns the principal tags as a flat `key → value` map (empty when the claim is absent). */
export function parseSessionTags(claim: unknown): Record<string, string> {
  if (claim === undefined) return {};
  if (typeof claim !== "object" || claim === null || Array.isArray(claim)) {
    throw invalid("The tags claim must be an object.");
  }
  const { principal_tags: principalTags, transitive_tag_keys: transitive } = claim as Record<
    string,
    unknown
  >;
  const tags: Record<string, string> = {};
  if (principalTags !== undefined) {
    if (
      typeof principalTags !== "object" ||
      principalTags === null ||
      Array.isArray(principalTags)
    ) {
      throw invalid("principal_tags must be an object.");
    }
    const seen = new Set<string>();
    for (const [key, raw] of Object.entries(principalTags)) {
      const value = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
      if (typeof value !== "string")
        throw invalid("Each session tag value must be a single string.");
      if (
        key.length < 1 ||
        key.length > 128 ||
        !TAG_CHARS.test(key) ||
        key.toLowerCase().startsWith("aws:")
      ) {
        throw invalid("Invalid session tag key.");
      }
      if (value.length > 256 || !TAG_CHARS.test(value)) throw invalid("Invalid session tag value.");
      if (seen.has(key.toLowerCase())) throw invalid("Duplicate session tag keys.");
      seen.add(key.toLowerCase());
      tags[key] = value;
    }
    if (seen.size > 50) throw invalid("Too many session tags.");
  }
  if (transitive !== undefined) {
    if (
      !Array.isArray(transitive) ||
      !transitive.every((k) => typeof k === "string" && k in tags)
    ) {
      throw invalid("transitive_tag_keys must name principal tags.");
    }
  }
  return tags;
}
