import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";

/*
 * Password hashing: argon2id (the library's default algorithm) with its default cost
 * (19 MiB, 2 passes, OWASP's minimum). Service secrets and refresh tokens are 256 random bits,
 * for which a plain SHA-256 is enough and keeps token checks fast.
 */
export const hashPassword = (password: string) => hash(password);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash verified when the username is unknown, so both answers take the same time. */
let dummyHash: Promise<string> | undefined;
export const dummyPasswordHash = () => {
  dummyHash ??= hash(randomBytes(16).toString("hex"));
  return dummyHash;
};

export const newSecret = () => randomBytes(32).toString("base64url");

export const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

const SECRET_PREFIX = "sha256:";
export const hashServiceSecret = (secret: string) => SECRET_PREFIX + sha256(secret).toString("hex");

export function verifyServiceSecret(stored: string, secret: string): boolean {
  if (!stored.startsWith(SECRET_PREFIX)) return false;
  const expected = Buffer.from(stored.slice(SECRET_PREFIX.length), "hex");
  const actual = sha256(secret);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
