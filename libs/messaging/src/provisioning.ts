import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";

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
 * Safe to call from every instance at every start.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  const want = desired(spec);
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(spec.name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
  if (!info) {
    try {
      return await jsm.streams.add(want);
    } catch (refusal) {
      // Another instance created it meanwhile ("stream name already in use"): compare and
      // update. The server answering the info may not know that creation yet; a stream that
      // never turns up was refused for another reason (e.g. overlapping subjects): say which.
      if (!(refusal instanceof JetStreamApiError)) throw refusal;
      info = await whileStreamNotYetKnown(() => jsm.streams.info(spec.name)).catch((err) => {
        throw isStreamNotFound(err) ? refusal : err;
      });
    }
  }
  if (!differs(info.config, want)) return info;
  const config = { ...info.config, ...want };
  return whileStreamNotYetKnown(() => jsm.streams.update(spec.name, config));
}

const NOT_YET_KNOWN_ATTEMPTS = 10;

/**
 * Runs a request about a stream this process has just created or seen (info, update). In a
 * cluster the stream's own server answers its creation, while the JetStream meta leader, which
 * answers an update and may answer an info first, may not have applied that creation yet and
 * says "stream not found" for a moment: that answer is retried (about 2 s in all), any other
 * error is not.
 */
export async function whileStreamNotYetKnown<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (!isStreamNotFound(err) || attempt >= NOT_YET_KNOWN_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}
