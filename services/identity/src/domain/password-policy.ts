import { invalidInput } from "./errors.js";

/** Passwords people pick first; a short built-in list (length rule already rules out most). */
const COMMON_PASSWORDS = new Set([
  "123456789012",
  "1234567890123",
  "12345678901234",
  "qwertyuiopas",
  "qwerty123456",
  "123456qwerty",
  "password1234",
  "password12345",
  "passwordpassword",
  "iloveyou1234",
  "administrator",
  "administrator1",
  "adminadmin123",
  "welcome12345",
  "letmein12345",
  "qwertyqwerty",
  "1q2w3e4r5t6y",
  "1qaz2wsx3edc",
  "zaq12wsxcde3",
  "aaaaaaaaaaaa",
  "111111111111",
  "000000000000",
  "йцукенгшщзхъ",
  "пароль123456",
  "парольпароль",
  "qwertyйцукен",
  "otmetka12345",
  "otmetkaotmetka",
  "changeme1234",
  "trustno1trustno1",
]);

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;

/**
 * The password policy: at least 12 characters (code points), at most 256, not the username
 * (case-insensitive), not a common password. Each refusal names its rule.
 */
export function requirePasswordPolicy(field: string, password: string, username: string): string {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw invalidInput(field, `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw invalidInput(field, `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  const lower = password.toLowerCase();
  if (username !== "" && lower === username.toLowerCase()) {
    throw invalidInput(field, "must not be the username");
  }
  if (COMMON_PASSWORDS.has(lower)) throw invalidInput(field, "is a common password");
  return password;
}

/** Usernames: 3-64 of lower-case latin letters, digits, '.', '_', '-'. Stored lower-cased. */
export function requireUsername(field: string, raw: string): string {
  const username = raw.trim().toLowerCase();
  if (!/^[a-z0-9._-]{3,64}$/.test(username)) {
    throw invalidInput(field, "must be 3-64 characters of a-z, 0-9, '.', '_' or '-'");
  }
  return username;
}
