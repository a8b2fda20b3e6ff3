// What a service's main does with NATS: one connection, drained at shutdown, and its streams'
// names; for a context with an event log, also its stream fed by the outbox relay.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, type Lifecycle, type Logger } from "@otmetka/service-kit";
import type { RouteFn } from "./event-message.js";
import type { LogReader } from "./log-reader.js";
import { type MessagingNames, messagingNames } from "./names.js";
import { ensureStream } from "./provisioning.js";
import { OutboxRelay } from "./relay.js";

/** The NATS variables of every service's config. */
export interface ServiceNatsConfig {
  NATS_URL: string;
  NATS_PREFIX?: string | undefined;
  NATS_STREAM_REPLICAS: number;
}

/** Connects the service (`name` is its NATS client name) and names its streams. */
export async function connectServiceNats(
  lifecycle: Lifecycle,
  name: string,
  config: ServiceNatsConfig,
  logger: Logger,
): Promise<{ nc: NatsConnection; names: MessagingNames }> {
  const nc = await connectNats({ url: config.NATS_URL, name, logger });
  lifecycle.onShutdown("nats", () => nc.drain());
  const names = messagingNames(config.NATS_PREFIX, { replicas: config.NATS_STREAM_REPLICAS });
  return { nc, names };
}

export interface ContextRelayOptions {
  nc: NatsConnection;
  names: MessagingNames;
  /** The context whose events the relay publishes (the stream's and subjects' name). */
  context: string;
  /** The context's event log and its database (the relay's lock is taken there). */
  log: LogReader;
  databaseUrl: string;
  route: RouteFn;
  logger: Logger;
}

/** Provisions the context's stream and relays its event log to it until shutdown. */
export async function startContextRelay(
  lifecycle: Lifecycle,
  o: ContextRelayOptions,
): Promise<OutboxRelay> {
  const stream = o.names.contextStream(o.context);
  await ensureStream(await jetstreamManager(o.nc), stream);
  const relay = new OutboxRelay({
    nc: o.nc,
    log: o.log,
    stream: stream.name,
    databaseUrl: o.databaseUrl,
    subjectRoot: o.names.eventRoot(o.context),
    source: o.context,
    route: o.route,
    onError: (err) => o.logger.warn({ err }, "relay error (it retries)"),
  }).start();
  lifecycle.onShutdown("relay", () => relay.stop());
  return relay;
}
