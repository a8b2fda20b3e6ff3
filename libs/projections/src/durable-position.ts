import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from "@nats-io/jetstream";

export interface DurableSpec {
  stream: string;
  durable: string;
  filter: string;
  ackWaitMs: number;
  maxAckPending: number;
}

const ns = (ms: number) => ms * 1_000_000;

/**
 * Places the source's durable consumer right after the read model's checkpoint. The
 * checkpoint in PostgreSQL is the truth: a consumer with messages outstanding (a crash
 * between commit and ack, or mid-batch), or one that disagrees with the checkpoint (after a
 * rebuild's swap, after the read model was dropped) is re-created to start at
 * `checkpoint + 1`, so events arrive again in stream order and nothing is applied twice.
 */
export async function positionDurable(
  jsm: JetStreamManager,
  spec: DurableSpec,
  checkpoint: number,
): Promise<void> {
  let info: ConsumerInfo | undefined;
  try {
    info = await jsm.consumers.info(spec.stream, spec.durable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.ConsumerNotFound) {
      throw err;
    }
  }
  if (
    info &&
    info.num_ack_pending === 0 &&
    info.num_redelivered === 0 &&
    info.ack_floor.stream_seq === checkpoint &&
    info.config.filter_subject === spec.filter
  ) {
    return;
  }
  if (info) await jsm.consumers.delete(spec.stream, spec.durable);
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    filter_subject: spec.filter,
    ack_policy: AckPolicy.Explicit,
    ack_wait: ns(spec.ackWaitMs),
    max_deliver: -1, // a read model never lets the server drop an event
    max_ack_pending: spec.maxAckPending,
    ...(checkpoint > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: checkpoint + 1 }
      : { deliver_policy: DeliverPolicy.All }),
  };
  await jsm.consumers.add(spec.stream, config);
}
