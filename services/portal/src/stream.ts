import type { JetStreamManager } from "@nats-io/jetstream";
import { natsNames } from "@otmetka/service-kit";

export interface PortalNames {
  stream: string;
  /** `portal.v1.<municipality>.<school>.<kind>.<key>` under the NATS prefix. */
  subject(municipalityId: string, schoolId: string, kind: string, key: string): string;
  /** Every subject of one pupil (any school): what erasure purges. */
  pupilFilter(portalId: string): string;
  /** The root every PORTAL subject is under. */
  root: string;
  durable(subscriber: string): string;
  inboxPrefix(subscriber: string): string;
}

// Tokens may not contain NATS's separators or wildcards.
const token = (s: string) => (s === "" ? "_" : s.replace(/[.*>\s]/g, "-"));

export function portalNames(prefix?: string): PortalNames {
  const n = natsNames(prefix);
  return {
    stream: n.stream("PORTAL"),
    root: n.subject("portal", "v1"),
    subject: (m, s, kind, key) => n.subject("portal", "v1", token(m), token(s), kind, token(key)),
    pupilFilter: (portalId) => n.subject("portal", "v1", "*", "*", "pupil", token(portalId)),
    durable: (subscriber) => n.durable(`portal-sub-${subscriber}`),
    inboxPrefix: (subscriber) => `_INBOX_${n.durable(`portal-${subscriber}`)}`,
  };
}

/** The PORTAL stream: file storage, no age limit (replay from the start), 2 min dedup window. */
export async function ensurePortalStream(
  jsm: JetStreamManager,
  names: PortalNames,
  replicas = 1,
): Promise<void> {
  const config = {
    name: names.stream,
    subjects: [`${names.root}.>`],
    duplicate_window: 120_000_000_000,
    num_replicas: replicas,
  };
  try {
    await jsm.streams.info(names.stream);
    await jsm.streams.update(names.stream, config);
  } catch {
    await jsm.streams.add(config);
  }
}
