import { JetStreamApiError, jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "./names.js";
import { isStreamNotFound, provisioningRequest } from "./provisioning.js";

/** Default lifetime of a partition lease and of a member's presence without renewal. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/** The bucket settings this package chooses (nats.js's KvOptions `ttl`, `history`). */
interface BucketSettings {
  ttl?: number;
  history: number;
}

/**
 * Opens (or creates) a bucket with `settings` and `names.replicas`, and brings an existing
 * bucket to them, as ensureStream does for streams: one made before the cluster grew is
 * scaled, and an instance losing the race to create it with other settings (a rollout) does
 * not fail but applies its own (the last instance to start wins).
 */
async function openBucket(
  nc: NatsConnection,
  names: MessagingNames,
  bucket: string,
  settings: BucketSettings,
): Promise<KV> {
  const kvm = new Kvm(nc);
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${bucket}`;
  let kv: KV | undefined;
  let refusal: JetStreamApiError | undefined;
  try {
    // nats.js's create is an info, then an add if the stream is missing: both may be asked
    // again after a timeout (provisioningRequest).
    kv = await provisioningRequest(stream, "create of bucket", () =>
      kvm.create(bucket, { ...settings, replicas: names.replicas }),
    );
  } catch (err) {
    // Another instance created it between nats.js's info and add, with other settings
    // (10058 "stream name already in use"): open it below and apply ours.
    if (!(err instanceof JetStreamApiError)) throw err;
    refusal = err;
  }
  // Not kv.status(): a just-created bucket's stream is not yet known to every server, and
  // one that does not know it may answer first (untilKnown).
  const info = await provisioningRequest(stream, "info", () => jsm.streams.info(stream), {
    untilKnown: true,
  }).catch((err) => {
    throw refusal && isStreamNotFound(err) ? refusal : err;
  });
  // Kvm.open only binds (no request); allow_direct as create would have read it.
  kv ??= await kvm.open(bucket, { allow_direct: info.config.allow_direct });
  const want: Partial<StreamConfig> = {
    num_replicas: names.replicas,
    max_age: (settings.ttl ?? 0) * 1_000_000,
    max_msgs_per_subject: settings.history,
  };
  const current = info.config as Partial<StreamConfig>;
  if (Object.entries(want).some(([key, value]) => current[key as keyof StreamConfig] !== value)) {
    const config = { ...info.config, ...want };
    // JetStream made the duplicate window no longer than a creation's max_age and refuses
    // an update that leaves it longer (a shorter lease TTL than the bucket's).
    if (config.max_age > 0 && config.duplicate_window > config.max_age) {
      config.duplicate_window = config.max_age;
    }
    await provisioningRequest(stream, "update", () => jsm.streams.update(stream, config), {
      untilKnown: true,
    });
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

/**
 * The longest lifetime of an access token (identity's IDENTITY_ACCESS_TOKEN_TTL_SECONDS is
 * 30-3600 s). A revocation only has to outlive the tokens it refuses: each was issued at or
 * before `revokedAt`, which is at or before the entry's write, so none is valid an access-token
 * lifetime after the write. The margin covers clock skew between identity (which stamps `iat`,
 * `exp` and `revokedAt`), the NATS server (which expires entries) and verifiers.
 */
export const REVOCATION_TTL_MS = 3_600_000 + 60_000;

/**
 * Access revocations (revocations.ts): the latest value per account id only; an entry expires
 * REVOCATION_TTL_MS after its write, when no token it refuses can still be valid.
 */
export function openRevocationsBucket(nc: NatsConnection, names: MessagingNames): Promise<KV> {
  return openBucket(nc, names, names.revocationBucket, { ttl: REVOCATION_TTL_MS, history: 1 });
}

/** Parked aggregate streams, per durable consumer; kept until released or skipped. */
export function openParkingBucket(nc: NatsConnection, names: MessagingNames): Promise<KV> {
  return openBucket(nc, names, names.parkingBucket, { history: 1 });
}
