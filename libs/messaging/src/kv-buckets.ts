import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "./names.js";

/** Default lifetime of a partition lease and of a member's presence without renewal. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/**
 * Opens (or creates) a bucket with `names.replicas`. An existing bucket keeps its settings
 * on open, so one made before the cluster grew is scaled here, as ensureStream does for streams.
 */
async function openBucket(
  nc: NatsConnection,
  names: MessagingNames,
  bucket: string,
  options: Partial<KvOptions>,
): Promise<KV> {
  const kv = await new Kvm(nc).create(bucket, { ...options, replicas: names.replicas });
  const status = await kv.status();
  if (status.replicas !== names.replicas) {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(status.streamInfo.config.name);
    await jsm.streams.update(info.config.name, { ...info.config, num_replicas: names.replicas });
  }
  return kv;
}

/**
 * Leases and presence: every entry expires `ttlMs` after its last write (the bucket's
 * max_age), so a crashed instance's partitions become free without anyone's help.
 */
export function openLeaseBucket(
  nc: NatsConnection,
  names: MessagingNames,
  ttlMs = DEFAULT_LEASE_TTL_MS,
): Promise<KV> {
  return openBucket(nc, names, names.leaseBucket, { ttl: ttlMs, history: 1 });
}

/** Parked aggregate streams, per durable consumer; kept until released or skipped. */
export function openParkingBucket(nc: NatsConnection, names: MessagingNames): Promise<KV> {
  return openBucket(nc, names, names.parkingBucket, { history: 1 });
}
