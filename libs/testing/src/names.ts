import { randomBytes } from "node:crypto";

/** Databases made by the harness start with this, so leftovers of killed runs can be found. */
export const TEST_DB_PREFIX = "otmetka_t_";

/** A name unique across processes and machines sharing one server: time, pid and randomness. */
export function uniqueSuffix(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 14);
  return `${stamp}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** When a harness-made name was created (UTC), read back from its stamp; null for other names. */
export function createdAtOf(name: string): Date | null {
  const m = /^otmetka_t_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})_/.exec(name);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

/** A NATS prefix: letters and digits only, valid in stream, subject and durable names. */
export function uniqueNatsPrefix(): string {
  return `t${randomBytes(6).toString("hex")}`;
}
