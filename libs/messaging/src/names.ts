import { type NatsNames, natsNames } from "@otmetka/service-kit";

export type { NatsNames };

/**
 * Names of everything this package creates, all through service-kit's NATS_PREFIX helper so
 * that tests and deployments sharing a server never collide.
 */
export interface MessagingNames {
  readonly nats: NatsNames;
  /** Replicas of every stream and KV bucket this package creates (1, or 3 in a 3-server cluster). */
  readonly replicas: number;
  /** Domain stream of a context: `p_GRADES` capturing `p.grades.>`, with `replicas`. */
  contextStream(context: string): { name: string; subjects: string[]; replicas: number };
  /** Subject root of a context's events: `p.grades.v1`. */
  eventRoot(context: string): string;
  /** Durable consumer name of one partition: `p_reporting-grades-p07`. */
  partitionDurable(durable: string, partition: number): string;
  deadLetterStream: { name: string; subjects: string[]; replicas: number };
  /** Dead-letter subject of one aggregate stream under one durable consumer. */
  deadLetterSubject(durable: string, streamKey: string): string;
  leaseBucket: string;
  parkingBucket: string;
  /** Access revocations by account id (identity writes, the gateway reads): `p_access-revocations`. */
  revocationBucket: string;
}

export interface MessagingNamesOptions {
  /**
   * Stream replicas (NATS_STREAM_REPLICAS): 3 on a 3-server cluster so a stream survives the
   * loss of one server; 1 (the default) on a single server, which cannot hold more.
   */
  replicas?: number;
}

export function messagingNames(
  prefix?: string,
  options: MessagingNamesOptions = {},
): MessagingNames {
  const nats = natsNames(prefix);
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new RangeError(`stream replicas must be an integer 1-5: ${replicas}`);
  }
  return {
    nats,
    replicas,
    contextStream: (context) => ({ ...nats.contextStream(context), replicas }),
    eventRoot: (context) => nats.subject(context.toLowerCase(), "v1"),
    partitionDurable: (durable, partition) =>
      nats.durable(`${durable}-p${String(partition).padStart(2, "0")}`),
    deadLetterStream: {
      name: nats.stream("DEADLETTER"),
      subjects: [nats.subject("deadletter", ">")],
      replicas,
    },
    deadLetterSubject: (durable, streamKey) => nats.subject("deadletter", durable, streamKey),
    leaseBucket: nats.kvBucket("messaging-leases"),
    parkingBucket: nats.kvBucket("messaging-parked"),
    revocationBucket: nats.kvBucket("access-revocations"),
  };
}
