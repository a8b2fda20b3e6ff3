import type { KV } from "@nats-io/kv";
import { streamIdOfKey, streamKey } from "./subjects.js";

/**
 * State of a parked aggregate stream under one durable consumer. `parked`: its events go to
 * the dead-letter stream, in order; `release`: the operator asked to handle them again;
 * `skip`: the same, dropping the poison event first.
 */
export type ParkState = "parked" | "release" | "skip";

export interface ParkedStream {
  durable: string;
  streamId: string;
  state: ParkState;
  /** The event that failed (the first one parked). */
  eventId: string;
  version: number;
  error: string;
  parkedAt: string;
  /** KV revision, for compare-and-set. */
  revision: number;
}

export const parkingKey = (durable: string, streamId: string) =>
  `${durable}.${streamKey(streamId)}`;

export function decodeParked(
  durable: string,
  key: string,
  value: Uint8Array,
  revision: number,
): ParkedStream {
  const body = JSON.parse(new TextDecoder().decode(value)) as Omit<ParkedStream, "revision">;
  return { ...body, durable, streamId: streamIdOfKey(key.slice(durable.length + 1)), revision };
}

export async function writeParked(
  kv: KV,
  p: Omit<ParkedStream, "revision">,
  previousRevision?: number,
): Promise<number> {
  const { revision: _, ...body } = p as ParkedStream;
  const data = JSON.stringify(body);
  const key = parkingKey(p.durable, p.streamId);
  return previousRevision === undefined
    ? kv.put(key, data)
    : kv.update(key, data, previousRevision);
}

export async function readParked(
  kv: KV,
  durable: string,
  streamId: string,
): Promise<ParkedStream | undefined> {
  const e = await kv.get(parkingKey(durable, streamId));
  if (e?.operation !== "PUT") return undefined;
  return decodeParked(durable, e.key, e.value, e.revision);
}

/** Every parked stream of a durable consumer. */
export async function listParked(kv: KV, durable: string): Promise<ParkedStream[]> {
  const out: ParkedStream[] = [];
  const keys = await kv.keys(`${durable}.*`);
  for await (const key of keys) {
    const e = await kv.get(key);
    if (e && e.operation === "PUT") out.push(decodeParked(durable, key, e.value, e.revision));
  }
  return out;
}
