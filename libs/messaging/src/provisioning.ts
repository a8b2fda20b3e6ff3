import { setTimeout as sleep } from "node:timers/promises";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";
import { ProvisioningTimeout } from "./errors.js";

/** Default duplicate window of domain streams: JetStream's own default, 2 minutes. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Default 2 minutes. Correctness of the relay does not depend on it (see README). */
  duplicateWindowMs?: number;
  /** Replicas in a cluster; default 1. */
  replicas?: number;
}

const ns = (ms: number) => ms * 1_000_000;

function desired(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: spec.subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    // Domain streams keep every event, so any consumer can be rebuilt from sequence 1.
    max_age: 0,
    max_msgs: -1,
    max_bytes: -1,
    duplicate_window: ns(spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    num_replicas: spec.replicas ?? 1,
  };
}

function differs(current: StreamConfig, want: Partial<StreamConfig>): boolean {
  const sameSubjects =
    [...(current.subjects ?? [])].sort().join(" ") === [...(want.subjects ?? [])].sort().join(" ");
  return (
    !sameSubjects ||
    current.max_age !== want.max_age ||
    current.duplicate_window !== want.duplicate_window ||
    current.num_replicas !== want.num_replicas ||
    current.max_msgs !== want.max_msgs ||
    current.max_bytes !== want.max_bytes
  );
}

/**
 * Creates the stream, or updates it when its settings differ; a no-op when they match.
 * Safe to call from every instance at every start. Every request goes through
 * `provisioningRequest` (a lost answer is asked again, see there); at most 4 in a row (info,
 * add, info after a refused add, update), so without answers it fails in about 90 s.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  const want = desired(spec);
  const name = spec.name;
  let info: StreamInfo | undefined;
  try {
    info = await provisioningRequest(name, "info", () => jsm.streams.info(name));
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  if (!info) {
    try {
      // Asked again after a timeout: JetStream answers a creation with the same config as a
      // success (ours went through unanswered), and refuses one with another (below).
      return await provisioningRequest(name, "add", () => jsm.streams.add(want));
    } catch (refusal) {
      // Another instance created it meanwhile ("stream name already in use"): compare and
      // update. The server answering the info may not know that creation yet; a stream that
      // never turns up was refused for another reason (e.g. overlapping subjects): say which.
      if (!(refusal instanceof JetStreamApiError)) throw refusal;
      info = await provisioningRequest(name, "info", () => jsm.streams.info(name), {
        untilKnown: true,
      }).catch((err) => {
        throw isStreamNotFound(err) ? refusal : err;
      });
    }
  }
  if (!differs(info.config, want)) return info;
  const config = { ...info.config, ...want };
  return provisioningRequest(name, "update", () => jsm.streams.update(name, config), {
    untilKnown: true,
  });
}

/** Tries of one request that times out (JetStream's API timeout, 5 s by default, each). */
export const PROVISIONING_TRIES = 4;
/** Pauses after the 1st, 2nd, 3rd timeout: 0.25 + 0.5 + 1 s. */
const timeoutPause = (tries: number) => 250 * 2 ** (tries - 1);
const NOT_YET_KNOWN_ATTEMPTS = 10;

/**
 * Runs one idempotent provisioning request (stream info, add, update; a KV bucket's create,
 * which is info then add) about stream `stream`:
 * - no answer in time (a cluster's servers busy with many creations at once, e.g. services
 *   starting together, may drop some): asked again, `PROVISIONING_TRIES` times in all, then
 *   `ProvisioningTimeout` names the stream and the operation. Bound: 4 × the API timeout
 *   + 1.75 s, about 22 s per request with the default 5 s;
 * - `untilKnown` (a stream this process has just created or seen): in a cluster the
 *   stream's own server answers its creation, while the JetStream meta leader, which answers
 *   an update and may answer an info first, may not have applied that creation yet and says
 *   "stream not found" for a moment: asked again, 10 answers in all (about 2 s of pauses);
 * - any other error is passed on at once.
 * - `signal` aborted (the caller lost the right to act, e.g. its partition lease): nothing
 *   is asked (again) after that; the signal's reason is thrown. A request already sent runs on.
 * Only for requests whose repetition does what one would: a delete only where "not found"
 * on the repeat counts as done (preparePartitionConsumer).
 */
export async function provisioningRequest<T>(
  stream: string,
  operation: string,
  request: () => Promise<T>,
  o: { untilKnown?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  let timeouts = 0;
  let notFound = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    try {
      return await request();
    } catch (err) {
      if (err instanceof TimeoutError) {
        if (++timeouts >= PROVISIONING_TRIES) {
          throw new ProvisioningTimeout(stream, operation, timeouts, { cause: err });
        }
        await sleep(timeoutPause(timeouts), undefined, { signal: o.signal });
      } else if (o.untilKnown && isStreamNotFound(err) && ++notFound < NOT_YET_KNOWN_ATTEMPTS) {
        await sleep(50 * notFound, undefined, { signal: o.signal });
      } else {
        throw err;
      }
    }
  }
}

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}
