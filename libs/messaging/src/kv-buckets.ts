import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "./names.js";

/** Default lifetime of a partition lease and of a member's presence without renewal. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/**
 * Leases and presence: every entry expires `ttlMs` after its last write (the bucket's
 * max_age), so a crashed instance's partitions become free without anyone's help.
 */
export function openLeaseBucket(
  nc: NatsConnection,
  names: MessagingNames,
  ttlMs = DEFAULT_LEASE_TTL_MS,
): Promise<KV> {
  return new Kvm(nc).create(names.leaseBucket, {
    ttl: ttlMs,
    history: 1,
    replicas: names.replicas,
  });
}

/** Parked aggregate streams, per durable consumer; kept until released or skipped. */
export function openParkingBucket(nc: NatsConnection, names: MessagingNames): Promise<KV> {
  return new Kvm(nc).create(names.parkingBucket, { history: 1, replicas: names.replicas });
}
