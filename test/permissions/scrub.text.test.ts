import { describe, expect, it } from "vitest";
import { scrubText } from "../../src/scrub.js";

describe("scrubText", () => {
  it("removes ccxt's signed URLs", () => {
    const msg =
      "binance GET http://127.0.0.1:4444/sapi/v1/account/apiRestrictions?timestamp=1&recvWindow=10000&signature=9abcdef 500 Internal Server Error boom";
    const out = scrubText(msg);
    expect(out).toBe("binance GET <url> 500 Internal Server Error boom");
  });
  it("removes HTX AccessKeyId and Signature query values outside URLs", () => {
    const out = scrubText("AccessKeyId=abc-123&SignatureMethod=HmacSHA256&Signature=xyz%3D");
    expect(out).not.toContain("abc-123");
    expect(out).not.toContain("xyz");
  });
  it("removes bearer tokens, JWTs, secret-named JSON fields and exact credential values", () => {
    const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    const out = scrubText(
      `Authorization: Bearer ${jwt} {"client_secret":"s3cr3t","apiKey":"k-1"} CANARY-1234 and again CANARY-1234`,
      ["CANARY-1234"],
      1000,
    );
    for (const s of [jwt, "s3cr3t", "k-1", "CANARY-1234"]) expect(out).not.toContain(s);
  });
  it("bounds the length after redaction", () => {
    expect(scrubText("word ".repeat(200), [], 50)).toHaveLength(51);
  });

  it("redacts a credential in its URL-encoded and base64 forms too", () => {
    const secret = "s3cr+t/with=chars";
    const text = `q=${encodeURIComponent(secret)} h=${Buffer.from(secret).toString("base64")} p=${secret}`;
    const out = scrubText(text, [secret]);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).not.toContain(Buffer.from(secret).toString("base64"));
    expect(out).not.toContain(secret);
  });

  it("redacts long hex and base64 runs that no other rule named (signatures, digests)", () => {
    const sig = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
    const b64 = "QWxhZGRpbjpvcGVuIHNlc2FtZQ0KQWxhZGRpbjpvcGVuIHNlc2FtZQ0K";
    const out = scrubText(`binance {"code":-2010} ${sig} ${b64}`);
    expect(out).toContain('"code":-2010');
    expect(out).not.toContain(sig);
    expect(out).not.toContain(b64);
  });
});
