import { z } from "zod";

/**
 * Building blocks for environment-variable schemas. Each variable is a string (or unset) that is
 * parsed into a value; a failure becomes one issue whose message names the rule and shows the
 * value (credentials in URLs masked), so `ConfigError` can say exactly what to fix.
 */

/** Returns the parsed value, or `undefined` when `raw` breaks the rule. */
export type Parse<T> = (raw: string) => T | undefined;

/** Masks `user:password@` in URLs: config values end up in logs and terminals. */
function show(raw: string): string {
  return JSON.stringify(raw.replace(/\/\/[^/@\s]*@/g, "//***@"));
}

/** A required variable with an optional default (used when unset or empty). */
export function variable<T>(rule: string, parse: Parse<T>, fallback?: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const value = raw ?? fallback;
      if (value === undefined) {
        ctx.addIssue({ code: "custom", message: `is required: ${rule}` });
        return z.NEVER;
      }
      const parsed = parse(value);
      if (parsed === undefined) {
        ctx.addIssue({ code: "custom", message: `must be ${rule} (got ${show(value)})` });
        return z.NEVER;
      }
      return parsed;
    });
}

/** A variable that may stay unset; when set it must follow the rule. */
export function optionalVariable<T>(rule: string, parse: Parse<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T | undefined => {
      if (raw === undefined) return undefined;
      const parsed = parse(raw);
      if (parsed === undefined) {
        ctx.addIssue({ code: "custom", message: `must be ${rule} (got ${show(raw)})` });
        return z.NEVER;
      }
      return parsed;
    });
}

export function parseInteger(min: number, max: number): Parse<number> {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim())) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
}

export const parsePort: Parse<number> = parseInteger(1, 65535);
export const PORT_RULE = "an integer port 1-65535";

/** A URL whose scheme is one of `protocols` (without the colon). */
export function parseUrl(protocols: readonly string[]): Parse<string> {
  return (raw) => {
    if (!URL.canParse(raw)) return undefined;
    const url = new URL(raw);
    return protocols.includes(url.protocol.slice(0, -1)) && url.hostname !== "" ? raw : undefined;
  };
}

/** NATS accepts a comma-separated list of servers (a cluster); each must be a nats:// URL. */
export const parseNatsUrl: Parse<string> = (raw) => {
  const servers = raw.split(",").map((s) => s.trim());
  return servers.every((s) => parseUrl(["nats"])(s) !== undefined) ? servers.join(",") : undefined;
};

export function parseOneOf<const T extends string>(values: readonly T[]): Parse<T> {
  return (raw) => values.find((v) => v === raw);
}

export function parsePattern(pattern: RegExp): Parse<string> {
  return (raw) => (pattern.test(raw) ? raw : undefined);
}

export const portVariable = (fallback?: number) =>
  variable(PORT_RULE, parsePort, fallback === undefined ? undefined : String(fallback));

export const optionalPortVariable = (fallback?: number) =>
  fallback === undefined
    ? optionalVariable(PORT_RULE, parsePort)
    : variable<number | undefined>(PORT_RULE, parsePort, String(fallback));

export const POSTGRES_URL_RULE = "a postgres:// or postgresql:// URL";
export const parsePostgresUrl = parseUrl(["postgres", "postgresql"]);

/** DATABASE_URL for services that own a database: required, with a local default. */
export const databaseUrlVariable = (fallback?: string) =>
  variable(POSTGRES_URL_RULE, parsePostgresUrl, fallback);
