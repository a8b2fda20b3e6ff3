import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type DeadLetteredMessage, readDeadLetters } from "./dead-letter.js";
import { StreamNotParked } from "./errors.js";
import { openParkingBucket } from "./kv-buckets.js";
import type { MessagingNames } from "./names.js";
import { listParked, type ParkedStream, readParked, writeParked } from "./parking.js";

export interface OperatorTarget {
  nc: NatsConnection;
  names: MessagingNames;
  /** Base durable name of the consumer group (`reporting-grades`). */
  durable: string;
}

/** Parked aggregate streams of a consumer group, with the event and error that parked each. */
export async function listParkedStreams(t: OperatorTarget): Promise<ParkedStream[]> {
  return listParked(await openParkingBucket(t.nc, t.names), t.durable);
}

/** A parked stream's dead-lettered events, oldest first (the poison event leads). */
export async function parkedEvents(
  t: OperatorTarget,
  streamId: string,
): Promise<DeadLetteredMessage[]> {
  return readDeadLetters(await jetstreamManager(t.nc), t.names, t.durable, streamId);
}

/**
 * Asks the group to handle a parked stream's events again, in order, and then unpark it;
 * with `skip`, its poison event is dropped first. The instance owning the stream's partition
 * does the work between two events; if an event fails again, the stream is parked again at it.
 */
export async function releaseParkedStream(
  t: OperatorTarget,
  streamId: string,
  options: { skip?: boolean } = {},
): Promise<void> {
  const kv = await openParkingBucket(t.nc, t.names);
  const entry = await readParked(kv, t.durable, streamId);
  if (!entry) throw new StreamNotParked(t.durable, streamId);
  const { revision, ...rest } = entry;
  await writeParked(kv, { ...rest, state: options.skip ? "skip" : "release" }, revision);
}

/** Drops a parked stream's poison event and releases the rest (releaseParkedStream with skip). */
export function skipPoisonEvent(t: OperatorTarget, streamId: string): Promise<void> {
  return releaseParkedStream(t, streamId, { skip: true });
}
