import { describe, expect, it } from "vitest";
import { canonicalJson, payloadHash } from "./payload-hash.js";

describe("payload hash", () => {
  it("ignores key order at every level", () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: "s" } };
    const b = { a: { x: "s", y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":"s","y":[1,{"p":2,"q":1}]},"b":1}');
    expect(payloadHash(a)).toBe(payloadHash(b));
    expect(payloadHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("tells different payloads apart, array order included", () => {
    expect(payloadHash({ mark: 5 })).not.toBe(payloadHash({ mark: 4 }));
    expect(payloadHash([1, 2])).not.toBe(payloadHash([2, 1]));
    expect(payloadHash({ a: 1, b: undefined })).toBe(payloadHash({ a: 1 }));
    expect(canonicalJson({ n: 10n, d: new Date("2026-01-01T00:00:00Z") })).toBe(
      '{"d":"2026-01-01T00:00:00.000Z","n":"10"}',
    );
  });
});
