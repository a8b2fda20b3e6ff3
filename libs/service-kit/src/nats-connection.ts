import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

export interface ConnectNatsOptions {
  /** NATS_URL: one URL or a comma-separated list (cluster). */
  url: string;
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
  logger?: Logger;
}

/**
 * Connects with endless reconnects: a NATS restart or failover must not take a service down;
 * JetStream publishes fail while disconnected and callers retry them. Status changes are
 * logged. Close with `nc.drain()` at shutdown so pending messages and acks go out.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: options.url.split(","),
    name: options.name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    pingInterval: 20_000,
  });
  const { logger } = options;
  if (logger) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnect") {
          logger.warn({ nats: s.type, server: s.server }, `nats ${s.type}`);
        } else if (s.type === "error") {
          logger.error({ err: s.error }, "nats error");
        }
      }
    })().catch(() => {});
  }
  return nc;
}
