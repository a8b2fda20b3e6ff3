import { createHmac, hkdfSync } from "node:crypto";

/*
 * Keyed blind index of names: HMAC-SHA256 of each normalised name part under a key derived
 * (HKDF) per school from the configured index key. The table holds only these tokens, so it
 * reveals no name without the key, and equal names in two schools give different tokens.
 */

/** Lower case, ё -> е, letters and digits only: "Ёлкина-Петрова" -> "елкинапетрова". */
export function normaliseNamePart(part: string): string {
  return part
    .toLocaleLowerCase("ru")
    .replaceAll("ё", "е")
    .replace(/[^\p{L}\p{N}]/gu, "");
}

export function schoolIndexKey(indexKey: Buffer, schoolId: string): Buffer {
  return Buffer.from(hkdfSync("sha256", indexKey, "otmetka.identity/blind-index", schoolId, 32));
}

/** One token per distinct name part; 16 bytes are plenty against collisions within a school. */
export function nameTokens(indexKey: Buffer, schoolId: string, text: string): Buffer[] {
  const key = schoolIndexKey(indexKey, schoolId);
  const parts = new Set(
    text
      .split(/\s+/)
      .map(normaliseNamePart)
      .filter((p) => p !== ""),
  );
  return [...parts].map((p) =>
    createHmac("sha256", key).update(p, "utf8").digest().subarray(0, 16),
  );
}
