// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureDatabase, surviveConnectionLoss } from "@otmetka/eventstore";
import { connectServiceNats } from "@otmetka/messaging";
import { PortalAdminServiceService } from "@otmetka/proto/portal/v1/portal_admin_service";
import { createCallerVerifier, createLogger, runService, serveGrpc } from "@otmetka/service-kit";
import pg from "pg";
import { createPortalAdminService } from "./admin/admin-service.js";
import { identityAccountRoles } from "./admin/identity-accounts.js";
import { config, telemetry } from "./bootstrap.js";
import { startFeed } from "./feed/start-feed.js";
import { identityPortalIdOpener } from "./identity-opener.js";
import { reportingPerformance } from "./reporting/reporting-performance.js";
import { portalServiceTokens } from "./service-token.js";
import { provisionSubscriberConsumer } from "./subscribers/consumers.js";
import { WebhookBridge } from "./webhook/bridge.js";

// Wiring only. Shutdown runs in reverse: gRPC health, webhooks, feed, NATS, database, telemetry.
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "portal", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  await ensureDatabase(config.DATABASE_URL);
  // A PostgreSQL restart fails the queries in flight (the feed retries), never the process.
  const pool = surviveConnectionLoss(
    new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 }),
    (err) => logger.warn({ err }, "idle database connection lost (the pool reconnects)"),
  );
  lifecycle.onShutdown("database", () => pool.end());

  // The feed names its streams itself (startFeed also serves tests and the bench).
  const { nc } = await connectServiceNats(lifecycle, "portal", config, logger);

  // One service token for identity (portal ids) and reporting (performance snapshots).
  const tokens = portalServiceTokens({
    address: config.IDENTITY_GRPC_ADDRESS,
    clientId: config.PORTAL_CLIENT_ID,
    clientSecret: config.PORTAL_CLIENT_SECRET,
  });
  lifecycle.onShutdown("identity auth client", async () => tokens.close());
  const opener = identityPortalIdOpener({
    address: config.IDENTITY_GRPC_ADDRESS,
    token: tokens.token,
  });
  lifecycle.onShutdown("identity client", async () => opener.close());
  const reporting = reportingPerformance({
    address: config.REPORTING_GRPC_ADDRESS,
    token: tokens.token,
    onItemError: (studentId, code, message) =>
      logger.warn(
        { studentId, code, message },
        "reporting has no diary for a pupil yet (deferred)",
      ),
  });
  lifecycle.onShutdown("reporting client", async () => reporting.close());

  const feed = await startFeed({
    nc,
    pool,
    prefix: config.NATS_PREFIX,
    replicas: config.NATS_STREAM_REPLICAS,
    openPortalId: opener.open,
    debounceMs: config.PORTAL_DEBOUNCE_MS,
    recheckMs: config.PORTAL_RECHECK_MS,
    performance: reporting.source,
    onError: (err, where) => logger.warn({ err, where }, "feed error (it retries)"),
    onRebuild: () => logger.warn("feed read model of an older version: rebuilding it first"),
    onStandby: () => logger.info("another instance publishes the feed: standing by"),
    onLockLost: () => logger.warn("the feed publisher's lock connection ended: publishing stopped"),
  });
  lifecycle.onShutdown("feed", () => feed.stop());

  // Webhook subscribers: a new one starts with a backfill; an existing consumer is kept.
  const jsm = await jetstreamManager(nc);
  const bridges = new Map<string, WebhookBridge>();
  for (const w of config.PORTAL_WEBHOOKS ?? []) {
    const exists = await jsm.consumers
      .info(feed.names.stream, feed.names.durable(w.subscriber))
      .then(() => true)
      .catch(() => false);
    if (!exists)
      await provisionSubscriberConsumer(jsm, feed.names, w.subscriber, { from: "backfill" });
    bridges.set(
      w.subscriber,
      await new WebhookBridge({
        nc,
        pool,
        names: feed.names,
        subscriber: w.subscriber,
        url: w.url,
        secret: w.secret,
        onError: (err) => logger.error({ err, subscriber: w.subscriber }, "webhook bridge stopped"),
      }).start(),
    );
  }
  lifecycle.onShutdown("webhooks", async () => {
    await Promise.all([...bridges.values()].map((b) => b.stop()));
  });

  // The operators' API (PLATFORM_ADMIN only) and health on the portal's port.
  const accounts = identityAccountRoles(config.IDENTITY_GRPC_ADDRESS);
  lifecycle.onShutdown("identity accounts client", async () => accounts.close());
  await serveGrpc({
    config,
    logger,
    lifecycle,
    services: [
      {
        definition: PortalAdminServiceService,
        implementation: createPortalAdminService(
          {
            pool,
            jsm,
            names: feed.names,
            accountRoles: accounts.roles,
            redrive: (subscriber, subject) => bridges.get(subscriber)?.redrive(subject) ?? null,
            stopBridge: async (subscriber) => {
              await bridges.get(subscriber)?.stop();
              bridges.delete(subscriber);
            },
          },
          createCallerVerifier({ jwksUrl: config.AUTH_JWKS_URL }),
          logger,
        ),
      },
    ],
  });
});
