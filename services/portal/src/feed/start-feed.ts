import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureStream, messagingNames } from "@otmetka/messaging";
import { type ProjectionRunner, startRunnerUpgrading } from "@otmetka/projections";
import type pg from "pg";
import { migrate } from "../db/migrations.js";
import { ensurePortalStream, type PortalNames, portalNames } from "../stream.js";
import type { PerformanceSource } from "./performance-source.js";
import { type PortalIdOpener, portalFeedProjection } from "./projection.js";
import { FeedPublisher } from "./publisher.js";

export interface RunningFeed {
  names: PortalNames;
  runner: ProjectionRunner;
  publisher: FeedPublisher;
  stop(): Promise<void>;
}

/**
 * The feed as the service runs it: migrations, the upstream context streams and PORTAL
 * provisioned, the projection over identity, curriculum and grades, the debouncer/publisher.
 */
export async function startFeed(o: {
  nc: NatsConnection;
  pool: pg.Pool;
  prefix?: string | undefined;
  /** Stream replicas (NATS_STREAM_REPLICAS); default 1. */
  replicas?: number;
  openPortalId: PortalIdOpener;
  debounceMs: number;
  pollMs?: number;
  /** Performance snapshots; default the feed's own read model (see PerformanceSource). */
  performance?: PerformanceSource;
  deferMs?: number;
  /**
   * A published pupil snapshot is taken again this long after (reporting may have lagged the
   * feed) and published again only if it changed; default 0: none (the feed's own read model
   * cannot lag itself).
   */
  recheckMs?: number;
  onError?: (err: unknown, where: string) => void;
  /** The read model is of an older version and is being rebuilt before the feed starts. */
  onRebuild?: () => void;
  /** Another instance publishes this feed: this one's publisher waits as a standby. */
  onStandby?: () => void;
  /** The publisher's lock connection ended: it stopped publishing and tries to take it again. */
  onLockLost?: () => void;
}): Promise<RunningFeed> {
  const names = portalNames(o.prefix);
  const mnames = messagingNames(o.prefix, { replicas: o.replicas ?? 1 });
  const jsm = await jetstreamManager(o.nc);
  for (const ctx of ["identity", "curriculum", "grades"])
    await ensureStream(jsm, mnames.contextStream(ctx));
  await ensurePortalStream(jsm, names, mnames.replicas);
  await migrate(o.pool);
  const projection = portalFeedProjection({
    openPortalId: o.openPortalId,
    debounceMs: o.debounceMs,
  });
  // A read model of an older version (an upgrade that added a table) is rebuilt from sequence
  // 1 first, blue/green; a rebuild publishes nothing again (outbox statements are dropped).
  const runner = await startRunnerUpgrading(
    {
      projection,
      pool: o.pool,
      nc: o.nc,
      names: mnames,
      ...(o.onError ? { onError: o.onError } : {}),
    },
    { onRebuild: () => o.onRebuild?.() },
  );
  const publisher = new FeedPublisher({
    pool: o.pool,
    js: jetstream(o.nc),
    jsm,
    names,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
    ...(o.performance ? { performance: o.performance } : {}),
    ...(o.deferMs !== undefined ? { deferMs: o.deferMs } : {}),
    ...(o.recheckMs !== undefined ? { recheckMs: o.recheckMs } : {}),
    ...(o.onError ? { onError: o.onError } : {}),
    ...(o.onStandby ? { onStandby: o.onStandby } : {}),
    ...(o.onLockLost ? { onLockLost: o.onLockLost } : {}),
  }).start();
  return {
    names,
    runner,
    publisher,
    async stop() {
      await publisher.stop();
      await runner.stop();
    },
  };
}
