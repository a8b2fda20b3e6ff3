import { type NatsNames, natsNames } from "@otmetka/service-kit";

export type { NatsNames };

/**
 * Names of everything this package creates, all through service-kit's NATS_PREFIX helper so
 * that tests and deployments sharing a server never collide.
 */
export interface MessagingNames {
  readonly nats: NatsNames;
  /** Domain stream of a context: `p_GRADES` capturing `p.grades.>`. */
  contextStream(context: string): { name: string; subjects: string[] };
  /** Subject root of a context's events: `p.grades.v1`. */
  eventRoot(context: string): string;
  /** Durable consumer name of one partition: `p_reporting-grades-p07`. */
  partitionDurable(durable: string, partition: number): string;
  deadLetterStream: { name: string; subjects: string[] };
  /** Dead-letter subject of one aggregate stream under one durable consumer. */
  deadLetterSubject(durable: string, streamKey: string): string;
  leaseBucket: string;
  parkingBucket: string;
}

export function messagingNames(prefix?: string): MessagingNames {
  const nats = natsNames(prefix);
  return {
    nats,
    contextStream: (context) => nats.contextStream(context),
    eventRoot: (context) => nats.subject(context.toLowerCase(), "v1"),
    partitionDurable: (durable, partition) =>
      nats.durable(`${durable}-p${String(partition).padStart(2, "0")}`),
    deadLetterStream: {
      name: nats.stream("DEADLETTER"),
      subjects: [nats.subject("deadletter", ">")],
    },
    deadLetterSubject: (durable, streamKey) => nats.subject("deadletter", durable, streamKey),
    leaseBucket: nats.kvBucket("messaging-leases"),
    parkingBucket: nats.kvBucket("messaging-parked"),
  };
}
