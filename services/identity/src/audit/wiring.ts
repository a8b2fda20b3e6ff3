import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Clock, Logger } from "@otmetka/service-kit";
import type pg from "pg";
import { AuditConsumer } from "./consumer.js";
import { AuditPartitions } from "./partitions.js";
import { AuditStore } from "./store.js";
import { auditNames, ensureAuditStream } from "./stream.js";

export interface AccessAuditOptions {
  pool: pg.Pool;
  nc: NatsConnection;
  natsPrefix: string | undefined;
  /** AUDIT stream replicas (NATS_STREAM_REPLICAS); default 1. */
  replicas?: number;
  clock: Clock;
  logger: Logger;
  retentionMonths: number;
  streamMaxAgeDays: number;
  /** Partition upkeep interval (default 1 hour). */
  maintenanceMs?: number;
  batchSize?: number;
  lingerMs?: number;
}

export interface AccessAudit {
  partitions: AuditPartitions;
  store: AuditStore;
  consumer: AuditConsumer;
  /** Runs partition upkeep now (it also runs on start and on the timer). */
  maintain(): Promise<void>;
  stop(): Promise<void>;
}

/** The AUDIT stream, partitions made ahead and expired ones dropped, and the consumer. */
export async function startAccessAudit(o: AccessAuditOptions): Promise<AccessAudit> {
  const names = auditNames(o.natsPrefix);
  await ensureAuditStream(
    await jetstreamManager(o.nc),
    names,
    o.streamMaxAgeDays * 86_400_000,
    o.replicas ?? 1,
  );
  const partitions = new AuditPartitions(o.pool, o.retentionMonths);
  const maintain = async () => {
    const r = await partitions.maintain(o.clock.now());
    if (r.created.length > 0 || r.dropped.length > 0) {
      o.logger.info({ created: r.created, dropped: r.dropped }, "access audit partitions");
    }
  };
  await maintain();
  const timer = setInterval(() => {
    maintain().catch((err: unknown) =>
      o.logger.warn({ err }, "access audit partition upkeep failed (retried)"),
    );
  }, o.maintenanceMs ?? 3_600_000);
  timer.unref();
  const store = new AuditStore(o.pool, partitions);
  const consumer = await new AuditConsumer({
    nc: o.nc,
    names,
    store,
    clock: o.clock,
    logger: o.logger,
    ...(o.batchSize ? { batchSize: o.batchSize } : {}),
    ...(o.lingerMs ? { lingerMs: o.lingerMs } : {}),
  }).start();
  return {
    partitions,
    store,
    consumer,
    maintain,
    async stop() {
      clearInterval(timer);
      await consumer.stop();
    },
  };
}
