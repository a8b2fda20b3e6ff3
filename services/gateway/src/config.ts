import { isTimeZone } from "@otmetka/service-kit";
import {
  baseConfigSchema,
  DEFAULT_PORTS,
  loadConfig,
  optionalVariable,
  parseInteger,
  parseOneOf,
  parsePattern,
  variable,
} from "@otmetka/service-kit/config";
import type { z } from "zod";

/** The zone of region 74's schools (identity's default school zone): the gateway's "today". */
export const DEFAULT_GATEWAY_TIME_ZONE = "Asia/Yekaterinburg";

const ADDRESS = "a host:port gRPC address such as 127.0.0.1:50051";
const parseAddress = parsePattern(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/);
const local = (port: number) => `127.0.0.1:${port}`;

export const gatewayConfigSchema = baseConfigSchema({
  grpcPort: DEFAULT_PORTS.gatewayHttp,
  httpPort: DEFAULT_PORTS.gatewayHttp,
}).extend({
  HTTP_HOST: variable(
    "an address to bind, such as 0.0.0.0",
    parsePattern(/^[A-Za-z0-9.:_-]+$/),
    "0.0.0.0",
  ),
  IDENTITY_GRPC_ADDRESS: variable(ADDRESS, parseAddress, local(DEFAULT_PORTS.identity)),
  CURRICULUM_GRPC_ADDRESS: variable(ADDRESS, parseAddress, local(DEFAULT_PORTS.curriculum)),
  REPORTING_GRPC_ADDRESS: variable(ADDRESS, parseAddress, local(DEFAULT_PORTS.reporting)),
  GRADES_GRPC_ADDRESS: variable(ADDRESS, parseAddress, local(DEFAULT_PORTS.grades)),
  // Deadline of each gRPC call to a service.
  GATEWAY_BACKEND_TIMEOUT_MS: variable(
    "an integer 100-120000 (ms)",
    parseInteger(100, 120_000),
    "10000",
  ),
  // How long dashboard answers are reused (emptied by reporting's change notices); 0 = off.
  GATEWAY_DASHBOARD_CACHE_MS: variable(
    "an integer 0-600000 (ms)",
    parseInteger(0, 600_000),
    "60000",
  ),
  // The region of MINISTRY_OFFICER@region:<id> grants (identity's IDENTITY_REGION_ID).
  GATEWAY_REGION_ID: variable(
    "letters, digits, '-' or '_'",
    parsePattern(/^[A-Za-z0-9_-]{1,64}$/),
    "74",
  ),
  // The region's zone: "today" of roster, dashboards and the assignment checks is its civil
  // date (a UTC date would be yesterday's for the first hours of each school day).
  GATEWAY_TIME_ZONE: variable(
    "an IANA time zone such as Asia/Yekaterinburg",
    (raw) => (isTimeZone(raw) ? raw : undefined),
    DEFAULT_GATEWAY_TIME_ZONE,
  ),
  // Introspection and GraphiQL are served only when this is `development`.
  NODE_ENV: variable(
    "development, production or test",
    parseOneOf(["development", "production", "test"] as const),
    "production",
  ),
  // Only operations from GRAPHQL_PERSISTED_OPERATIONS_FILE are executed.
  GRAPHQL_PERSISTED_ONLY: variable(
    "true or false",
    parseOneOf(["true", "false"] as const),
    "false",
  ),
  // JSON object { "<sha256 hex of the document>": "<document>" }.
  GRAPHQL_PERSISTED_OPERATIONS_FILE: optionalVariable(
    "a path to a JSON file",
    parsePattern(/^.+$/),
  ),
  GRAPHQL_MAX_DEPTH: variable("an integer 2-50", parseInteger(2, 50), "10"),
  GRAPHQL_MAX_COST: variable("an integer 10-1000000", parseInteger(10, 1_000_000), "5000"),
  GRAPHQL_MAX_ALIASES: variable("an integer 0-1000", parseInteger(0, 1000), "15"),
  GRAPHQL_MAX_TOKENS: variable("an integer 100-100000", parseInteger(100, 100_000), "2000"),
  GRAPHQL_MAX_DIRECTIVES: variable("an integer 0-1000", parseInteger(0, 1000), "20"),
  // Requests per token (account) per minute.
  GATEWAY_RATE_LIMIT_PER_MINUTE: variable(
    "an integer 1-1000000",
    parseInteger(1, 1_000_000),
    "600",
  ),
  // Requests without a token (login, refreshToken, logout) per client address per minute.
  GATEWAY_ANONYMOUS_RATE_LIMIT_PER_MINUTE: variable(
    "an integer 1-1000000",
    parseInteger(1, 1_000_000),
    "600",
  ),
  // Open subscriptions (SSE and WebSocket) of one account at a time on this instance.
  GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT: variable(
    "an integer 1-10000",
    parseInteger(1, 10_000),
    "20",
  ),
  // Proxies in front that append the peer's address to X-Forwarded-For (0: none, the
  // socket's peer is the client).
  GATEWAY_TRUSTED_PROXY_HOPS: variable("an integer 0-10", parseInteger(0, 10), "0"),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export function loadGatewayConfig(
  env: Record<string, string | undefined> = process.env,
): GatewayConfig {
  return loadConfig(gatewayConfigSchema, env);
}
