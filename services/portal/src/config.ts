import {
  baseConfigSchema,
  DEFAULT_PORTS,
  databaseUrlVariable,
  loadConfig,
  optionalVariable,
  parseInteger,
  parsePattern,
  parseUrl,
  variable,
} from "@otmetka/service-kit/config";
import type { z } from "zod";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/otmetka_portal";

export interface WebhookConfig {
  subscriber: string;
  url: string;
  secret: string;
}

const WEBHOOK_RULE =
  "comma-separated <subscriber>|<http(s) URL>|<secret of at least 16 characters> entries";

/** `name|url|secret,...` → webhook subscribers; undefined when any entry is malformed. */
export function parseWebhooks(raw: string): WebhookConfig[] | undefined {
  const out: WebhookConfig[] = [];
  const url = parseUrl(["http", "https"]);
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [subscriber = "", target = "", secret = ""] = entry.split("|");
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(subscriber) || !url(target) || secret.length < 16)
      return undefined;
    out.push({ subscriber, url: target, secret });
  }
  return out;
}

export const portalConfigSchema = baseConfigSchema({ grpcPort: DEFAULT_PORTS.portal }).extend({
  DATABASE_URL: databaseUrlVariable(DEFAULT_DATABASE_URL),
  // A pupil's snapshot goes out at most this long after the first change (burst → one message).
  PORTAL_DEBOUNCE_MS: variable(
    "an integer 0-600000 (milliseconds)",
    parseInteger(0, 600_000),
    "1000",
  ),
  // A published pupil snapshot is taken again this long after and published again only if it
  // changed: reporting consumes grades on its own and may not have applied the latest mark yet.
  PORTAL_RECHECK_MS: variable(
    "an integer 0-600000 (milliseconds; 0: no re-check)",
    parseInteger(0, 600_000),
    "5000",
  ),
  // identity's gRPC address, for DecryptForPerson of portal ids.
  IDENTITY_GRPC_ADDRESS: variable(
    "host:port of identity's gRPC server",
    parsePattern(/^[A-Za-z0-9.-]+:\d{1,5}$/),
    `127.0.0.1:${DEFAULT_PORTS.identity}`,
  ),
  // reporting's gRPC address, for GetDiaries (pupil performance snapshots).
  REPORTING_GRPC_ADDRESS: variable(
    "host:port of reporting's gRPC server",
    parsePattern(/^[A-Za-z0-9.-]+:\d{1,5}$/),
    `127.0.0.1:${DEFAULT_PORTS.reporting}`,
  ),
  // The portal's service account in identity (CreateServiceAccount); needed to open portal ids.
  PORTAL_CLIENT_ID: optionalVariable("a client id", parsePattern(/^\S{1,200}$/)),
  PORTAL_CLIENT_SECRET: optionalVariable("a client secret", parsePattern(/^\S{1,500}$/)),
  PORTAL_WEBHOOKS: optionalVariable(WEBHOOK_RULE, parseWebhooks),
});

export type PortalConfig = z.output<typeof portalConfigSchema>;

export function loadPortalConfig(
  env: Record<string, string | undefined> = process.env,
): PortalConfig {
  return loadConfig(portalConfigSchema, env);
}
