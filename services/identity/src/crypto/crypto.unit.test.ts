import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { aadOf, newDataKey, open, seal } from "./aead.js";
import { nameTokens, normaliseNamePart } from "./blind-index.js";
import { unwrapDataKey, wrapDataKey } from "./data-keys.js";
import { parseBlindIndexKey, parseMasterKeys } from "./key-config.js";

const b64 = () => randomBytes(32).toString("base64");

describe("AES-256-GCM sealing", () => {
  it("opens what it sealed, only with the same key and associated data", () => {
    const key = newDataKey();
    const blob = seal(key, "a", Buffer.from("Иванов"));
    expect(open(key, "a", blob)?.toString()).toBe("Иванов");
    expect(open(key, "b", blob)).toBeUndefined();
    expect(open(newDataKey(), "a", blob)).toBeUndefined();
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1]! ^= 1;
    expect(open(key, "a", tampered)).toBeUndefined();
  });
  it("gives different ciphertexts for the same plaintext (random IV)", () => {
    const key = newDataKey();
    expect(seal(key, "a", Buffer.from("x")).equals(seal(key, "a", Buffer.from("x")))).toBe(false);
  });
  it("separates the purposes of a person's key", () => {
    expect(aadOf.personalData("p")).not.toBe(aadOf.external("p"));
  });
});

describe("master keys", () => {
  it("parses id:key pairs with the first active", () => {
    const ring = parseMasterKeys(`k2:${b64()}, k1:${b64()}`);
    expect(ring?.active.id).toBe("k2");
    expect([...(ring?.byId.keys() ?? [])]).toEqual(["k2", "k1"]);
  });
  it("refuses short keys, duplicates and garbage", () => {
    expect(parseMasterKeys(`k1:${randomBytes(16).toString("base64")}`)).toBeUndefined();
    expect(parseMasterKeys(`k1:${b64()},k1:${b64()}`)).toBeUndefined();
    expect(parseMasterKeys("nonsense")).toBeUndefined();
    expect(parseBlindIndexKey("abc")).toBeUndefined();
  });
  it("wraps a data key that unwraps only for the same person, also after rotation", () => {
    const old = `k1:${b64()}`;
    const ringOld = parseMasterKeys(old)!;
    const dataKey = newDataKey();
    const w = wrapDataKey(ringOld, "p1", dataKey);
    expect(unwrapDataKey(ringOld, "p1", w).equals(dataKey)).toBe(true);
    expect(() => unwrapDataKey(ringOld, "p2", w)).toThrow(/does not unwrap/);
    const ringNew = parseMasterKeys(`k2:${b64()},${old}`)!;
    expect(unwrapDataKey(ringNew, "p1", w).equals(dataKey)).toBe(true);
    expect(wrapDataKey(ringNew, "p1", dataKey).masterKeyId).toBe("k2");
    expect(() => unwrapDataKey(parseMasterKeys(`k2:${b64()}`)!, "p1", w)).toThrow(/not configured/);
  });
});

describe("blind index", () => {
  const key = randomBytes(32);
  it("normalises case, ё and punctuation", () => {
    expect(normaliseNamePart("Ёлкина-Петрова")).toBe("елкинапетрова");
  });
  it("gives equal tokens for equal names in one school, different ones across schools", () => {
    const [a] = nameTokens(key, "s1", "ЁЛКИН");
    const [b] = nameTokens(key, "s1", "елкин");
    const [c] = nameTokens(key, "s2", "елкин");
    expect(a?.equals(b!)).toBe(true);
    expect(a?.equals(c!)).toBe(false);
    expect(a?.toString("utf8")).not.toContain("елкин");
    expect(nameTokens(key, "s1", "Иван Иван  Петров")).toHaveLength(2);
  });
});
