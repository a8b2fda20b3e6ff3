import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { messagingNames } from "@otmetka/messaging";

/** Names of the AUDIT stream, its one subject and identity's durable consumer on it. */
export interface AuditNames {
  stream: string;
  /** `<prefix>.audit.access`: where the gateway publishes one AccessRecord per request. */
  accessSubject: string;
  durable: string;
}

export function auditNames(prefix?: string): AuditNames {
  const { nats } = messagingNames(prefix);
  return {
    stream: nats.stream("AUDIT"),
    accessSubject: nats.subject("audit", "access"),
    durable: nats.durable("identity-access-audit"),
  };
}

const ns = (ms: number) => ms * 1_000_000;
/** Publishers set `Nats-Msg-Id` = record id; a retried publish within this window is dropped. */
const DUPLICATE_WINDOW_MS = 120_000;

/**
 * Creates or updates the AUDIT stream. Unlike the domain streams it is a buffer with a max
 * age: identity keeps the archive in PostgreSQL, so a record only has to survive until stored.
 */
export async function ensureAuditStream(
  jsm: JetStreamManager,
  names: AuditNames,
  maxAgeMs: number,
  replicas = 1,
): Promise<void> {
  const want: Partial<StreamConfig> & { name: string } = {
    name: names.stream,
    subjects: [names.accessSubject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: ns(maxAgeMs),
    duplicate_window: ns(Math.min(DUPLICATE_WINDOW_MS, maxAgeMs)),
    num_replicas: replicas,
  };
  try {
    const info = await jsm.streams.info(names.stream);
    const c = info.config;
    if (
      c.max_age !== want.max_age ||
      c.num_replicas !== replicas ||
      c.subjects.join(" ") !== names.accessSubject
    ) {
      await jsm.streams.update(names.stream, { ...c, ...want });
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) {
      throw err;
    }
    try {
      await jsm.streams.add(want);
    } catch (addErr) {
      // Another instance created it meanwhile.
      if (!(addErr instanceof JetStreamApiError)) throw addErr;
    }
  }
}
