// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js (see bootstrap.ts).
import "./bootstrap.js";
import { jetstream } from "@nats-io/jetstream";
import { messagingNames, openRevocationsBucket, watchRevocations } from "@otmetka/messaging";
import { connectNats, createCallerVerifier, createLogger, runService } from "@otmetka/service-kit";
import { jetStreamAuditSink } from "./audit/publisher.js";
import { connectBackends } from "./backends/clients.js";
import { config, telemetry } from "./bootstrap.js";
import { createGateway, readPersistedOperations } from "./http/gateway.js";
import { listenGateway } from "./http/websocket.js";
import { NoticeHub } from "./subscriptions/notices.js";

// Wiring only. Shutdown runs in reverse: HTTP server, gRPC clients, NATS, telemetry.
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "gateway", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  const nc = await connectNats({ url: config.NATS_URL, name: "gateway", logger });
  lifecycle.onShutdown("nats", () => nc.drain());
  const names = messagingNames(config.NATS_PREFIX, { replicas: config.NATS_STREAM_REPLICAS });
  const { nats } = names;
  // Every instance hears every notice (no queue group): each serves its own SSE clients.
  const notices = new NoticeHub();
  notices.start(nc, `${names.eventRoot("reporting")}.changed.>`, logger);
  lifecycle.onShutdown("change notices", () => notices.stop());

  // Identity's revoked accounts, loaded before serving: a disabled account's tokens stop at once.
  const revocations = await watchRevocations(await openRevocationsBucket(nc, names), {
    onError: (err) => logger.warn({ err }, "revocation list watch failed; it restarts"),
  });
  lifecycle.onShutdown("revocation list", () => revocations.stop());

  const backends = connectBackends({
    identity: config.IDENTITY_GRPC_ADDRESS,
    curriculum: config.CURRICULUM_GRPC_ADDRESS,
    reporting: config.REPORTING_GRPC_ADDRESS,
    grades: config.GRADES_GRPC_ADDRESS,
    timeoutMs: config.GATEWAY_BACKEND_TIMEOUT_MS,
  });
  lifecycle.onShutdown("grpc clients", () => backends.close());

  const yoga = createGateway({
    backends,
    verifier: createCallerVerifier({ jwksUrl: config.AUTH_JWKS_URL }),
    revocations,
    audit: jetStreamAuditSink(jetstream(nc), nats.subject("audit", "access")),
    logger,
    notices,
    dashboardCacheMs: config.GATEWAY_DASHBOARD_CACHE_MS,
    regionId: config.GATEWAY_REGION_ID,
    timeZone: config.GATEWAY_TIME_ZONE,
    development: config.NODE_ENV === "development",
    persistedOnly: config.GRAPHQL_PERSISTED_ONLY === "true",
    persistedOperations: readPersistedOperations(config.GRAPHQL_PERSISTED_OPERATIONS_FILE),
    limits: {
      depth: config.GRAPHQL_MAX_DEPTH,
      cost: config.GRAPHQL_MAX_COST,
      aliases: config.GRAPHQL_MAX_ALIASES,
      tokens: config.GRAPHQL_MAX_TOKENS,
      perMinute: config.GATEWAY_RATE_LIMIT_PER_MINUTE,
      directives: config.GRAPHQL_MAX_DIRECTIVES,
      anonymousPerMinute: config.GATEWAY_ANONYMOUS_RATE_LIMIT_PER_MINUTE,
      subscriptionsPerAccount: config.GATEWAY_MAX_SUBSCRIPTIONS_PER_ACCOUNT,
    },
    trustedProxyHops: config.GATEWAY_TRUSTED_PROXY_HOPS,
  });
  // GraphQL over HTTP (SSE included) and over WebSocket (graphql-ws) on one server and path.
  const http = await listenGateway(yoga, config.HTTP_PORT, config.HTTP_HOST);
  logger.info({ port: config.HTTP_PORT, path: "/graphql" }, "gateway listening");
  lifecycle.onShutdown("http server", () => http.close());
});
