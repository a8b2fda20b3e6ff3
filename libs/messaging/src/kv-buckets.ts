import { jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "./names.js";
import { whileStreamNotYetKnown } from "./provisioning.js";

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
  // Not kv.status(): a just-created bucket's stream is not yet known to every server, and
  // one that does not know it may answer first (whileStreamNotYetKnown).
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${bucket}`;
  const info = await whileStreamNotYetKnown(() => jsm.streams.info(stream));
  if (info.config.num_replicas !== names.replicas) {
    const config = { ...info.config, num_replicas: names.replicas };
    await whileStreamNotYetKnown(() => jsm.streams.update(stream, config));
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
