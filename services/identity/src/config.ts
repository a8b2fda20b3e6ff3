import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
  parseInteger,
  parsePattern,
  portVariable,
  variable,
} from "@otmetka/service-kit/config";
import { z } from "zod";
import { parseBlindIndexKey, parseMasterKeys } from "./crypto/key-config.js";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_identity";

/**
 * A secret variable: like `variable`, but a bad value is never echoed (the kit's messages show
 * the value, which is right for URLs and wrong for keys).
 */
function secretVariable<T>(rule: string, parse: (raw: string) => T | undefined) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined) {
        ctx.addIssue({ code: "custom", message: `is required: ${rule}` });
        return z.NEVER;
      }
      const parsed = parse(raw);
      if (parsed === undefined) {
        ctx.addIssue({ code: "custom", message: `must be ${rule} (value not shown: a secret)` });
        return z.NEVER;
      }
      return parsed;
    });
}

const identityVariables = baseConfigSchema({ grpcPort: DEFAULT_PORTS.identity }).extend({
  DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL),
  // Wrap every person's data key; the first is active, the others only unwrap until rotated.
  IDENTITY_MASTER_KEYS: secretVariable(
    "comma-separated <id>:<base64 of 32 bytes> master keys, the first one active (e.g. k2:...,k1:...)",
    parseMasterKeys,
  ),
  // Keys the blind index of names (HMAC); changing it needs a re-index.
  IDENTITY_BLIND_INDEX_KEY: secretVariable("base64 of 32 random bytes", parseBlindIndexKey),
  IDENTITY_REGION_ID: variable(
    "letters, digits or '-'",
    parsePattern(/^[A-Za-z0-9-]{1,40}$/),
    "74",
  ),
  IDENTITY_REGION_NAME: variable(
    "a non-empty name",
    (raw) => (raw.trim() === "" ? undefined : raw.trim()),
    "Челябинская область",
  ),
  // Access audit: whole months kept before their partition is dropped. No legal minimum is
  // set in the design or the ministry letter; 60 months is a cautious default.
  IDENTITY_AUDIT_RETENTION_MONTHS: variable("an integer 1-1200", parseInteger(1, 1200), "60"),
  // How long the AUDIT stream keeps records identity has not yet stored (a buffer, not the archive).
  IDENTITY_AUDIT_STREAM_MAX_AGE_DAYS: variable("an integer 1-365", parseInteger(1, 365), "7"),
  // JWKS over HTTP (GET /.well-known/jwks.json). Identity verifies its own callers against
  // AUTH_JWKS_URL (kit default: this port on 127.0.0.1), like every other service.
  IDENTITY_HTTP_PORT: portVariable(DEFAULT_PORTS.identityHttp),
  IDENTITY_HTTP_HOST: variable("a host or address", parsePattern(/^[A-Za-z0-9.:-]+$/), "0.0.0.0"),
  IDENTITY_ACCESS_TOKEN_TTL_SECONDS: variable("an integer 30-3600", parseInteger(30, 3600), "600"),
  IDENTITY_REFRESH_TOKEN_TTL_SECONDS: variable(
    "an integer 300-7776000",
    parseInteger(300, 7_776_000),
    String(30 * 24 * 3600),
  ),
  // A refresh family (one login's session) ends this long after its login, however often it
  // is refreshed: a stolen refresh token cannot be kept alive by rotating it.
  IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS: variable(
    "an integer 300-31536000",
    parseInteger(300, 31_536_000),
    String(30 * 24 * 3600),
  ),
  // A start-up this long after the active key's activation rotates the signing key.
  IDENTITY_SIGNING_KEY_ROTATION_DAYS: variable("an integer 1-365", parseInteger(1, 365), "30"),
  IDENTITY_BOOTSTRAP_ADMIN_USERNAME: variable(
    "3-64 characters of a-z, 0-9, '.', '_' or '-'",
    parsePattern(/^[a-z0-9._-]{3,64}$/),
    "admin",
  ),
  // Creates the first PLATFORM_ADMIN when none exists; a secret, never echoed.
  IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === "") return undefined;
      if ([...raw].length < 12) {
        ctx.addIssue({
          code: "custom",
          message: "must be at least 12 characters (value not shown: a secret)",
        });
        return z.NEVER;
      }
      return raw;
    }),
});

export const identityConfigSchema = identityVariables.superRefine((c, ctx) => {
  // A refresh token never outlives its family, so a shorter family would silently cap the TTL.
  if (c.IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS < c.IDENTITY_REFRESH_TOKEN_TTL_SECONDS) {
    ctx.addIssue({
      code: "custom",
      path: ["IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS"],
      message: `must be at least IDENTITY_REFRESH_TOKEN_TTL_SECONDS (${c.IDENTITY_REFRESH_TOKEN_TTL_SECONDS})`,
    });
  }
});

export type IdentityConfig = z.output<typeof identityConfigSchema>;

export function loadIdentityConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(identityConfigSchema, env);
}
