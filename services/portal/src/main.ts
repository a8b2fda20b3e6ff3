// First import, on its own: validates the config, then starts OpenTelemetry before anything
// loads @grpc/grpc-js or pg (see bootstrap.ts).
import "./bootstrap.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureDatabase } from "@otmetka/eventstore";
import { connectNats, createLogger, runService, startGrpcServer } from "@otmetka/service-kit";
import pg from "pg";
import { config, telemetry } from "./bootstrap.js";
import { startFeed } from "./feed/start-feed.js";
import { identityPortalIdOpener } from "./identity-opener.js";
import { provisionSubscriberConsumer } from "./subscribers/consumers.js";
import { WebhookBridge } from "./webhook/bridge.js";

// Wiring only. Shutdown runs in reverse: gRPC health, webhooks, feed, NATS, database, telemetry.
await runService(async (lifecycle) => {
  lifecycle.onShutdown("telemetry", () => telemetry.shutdown());
  const logger = createLogger({ service: "portal", level: config.LOG_LEVEL });
  lifecycle.useLogger(logger);

  await ensureDatabase(config.DATABASE_URL);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
  pool.on("error", (err) =>
    logger.warn({ err }, "idle database connection lost (the pool reconnects)"),
  );
  lifecycle.onShutdown("database", () => pool.end());

  const nc = await connectNats({ url: config.NATS_URL, name: "portal", logger });
  lifecycle.onShutdown("nats", () => nc.drain());

  const opener = identityPortalIdOpener({
    address: config.IDENTITY_GRPC_ADDRESS,
    clientId: config.PORTAL_CLIENT_ID,
    clientSecret: config.PORTAL_CLIENT_SECRET,
  });
  lifecycle.onShutdown("identity client", async () => opener.close());

  const feed = await startFeed({
    nc,
    pool,
    prefix: config.NATS_PREFIX,
    openPortalId: opener.open,
    debounceMs: config.PORTAL_DEBOUNCE_MS,
    onError: (err, where) => logger.warn({ err, where }, "feed error (it retries)"),
  });
  lifecycle.onShutdown("feed", () => feed.stop());

  // Webhook subscribers: a new one starts with a backfill; an existing consumer is kept.
  const jsm = await jetstreamManager(nc);
  const bridges: WebhookBridge[] = [];
  for (const w of config.PORTAL_WEBHOOKS ?? []) {
    const exists = await jsm.consumers
      .info(feed.names.stream, feed.names.durable(w.subscriber))
      .then(() => true)
      .catch(() => false);
    if (!exists)
      await provisionSubscriberConsumer(jsm, feed.names, w.subscriber, { from: "backfill" });
    bridges.push(
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
    await Promise.all(bridges.map((b) => b.stop()));
  });

  // Health (and reflection-free) gRPC on the portal's port; the admin API is not there yet.
  const server = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    graceMs: config.SHUTDOWN_GRACE_MS,
    drainTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    logger,
    services: [],
  });
  lifecycle.onShutdown("grpc server", () => server.shutdown());
});
