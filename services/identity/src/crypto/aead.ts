import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/*
 * AES-256-GCM sealing, with Node's crypto. Format: version byte 1 | 12-byte IV | 16-byte tag |
 * ciphertext. The associated data binds a ciphertext to its person and purpose, so a blob
 * cannot be replayed under another person or through another API.
 */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function seal(key: Buffer, aad: string, plaintext: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/** The plaintext, or undefined when the blob is malformed, tampered with or under another key. */
export function open(key: Buffer, aad: string, blob: Uint8Array): Buffer | undefined {
  const b = Buffer.from(blob);
  if (b.length < 1 + IV_BYTES + TAG_BYTES || b[0] !== VERSION) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, b.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(b.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(b.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

export const newDataKey = () => randomBytes(32);

/** Associated data of each purpose: personal data in events vs. text other services store. */
export const aadOf = {
  personalData: (personId: string) => `otmetka.identity/personal-data/${personId}`,
  external: (personId: string) => `otmetka.identity/external/${personId}`,
  wrappedKey: (personId: string, masterKeyId: string) =>
    `otmetka.identity/data-key/${personId}/${masterKeyId}`,
};
