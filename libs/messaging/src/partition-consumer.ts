import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
} from "@nats-io/jetstream";
import { PartitionConsumerReplaced } from "./errors.js";
import type { GroupContext } from "./group-context.js";
import { provisioningRequest } from "./provisioning.js";
import { partitionFilter } from "./subjects.js";

const ns = (ms: number) => ms * 1_000_000;

/**
 * Makes the partition's durable consumer ready for a new session of its lease holder. When
 * messages are outstanding (a crashed holder, deliveries lost in a NATS restart), the
 * consumer is re-created to start right after its ack floor: otherwise JetStream would hand
 * out later messages before redelivering those, breaking per-stream order. The runtime acks
 * in order, so everything up to the floor is handled.
 *
 * Each request whose answer is lost (a busy cluster) is asked again here, in place
 * (`provisioningRequest`): once the delete has gone through, a new session would find no
 * consumer and start from sequence 1, the floor read here lost. `signal` is the worker's
 * stop (its lease lost or given back): nothing is asked after it, since the partition's next
 * holder may be preparing the same consumer by then.
 */
export async function preparePartitionConsumer(
  g: Pick<
    GroupContext,
    "jsm" | "names" | "stream" | "subjectRoot" | "durable" | "ackWaitMs" | "maxAckPending"
  >,
  partition: number,
  signal?: AbortSignal,
): Promise<string> {
  const name = g.names.partitionDurable(g.durable, partition);
  const what = (op: string) => `${op} of consumer ${name}`;
  const info = await provisioningRequest(g.stream, what("info"), () => infoOrNone(g, name), {
    signal,
  });
  if (info && info.num_ack_pending === 0 && info.num_redelivered === 0) return name;
  const floor = info?.ack_floor.stream_seq ?? 0;
  if (info) {
    let asked = false;
    await provisioningRequest(
      g.stream,
      what("delete"),
      async () => {
        if (asked) {
          // Ours may have gone through unanswered: none left is done, and one created since
          // (another `created`) is the next holder's, in use: never delete that.
          const now = await infoOrNone(g, name);
          if (!now) return true;
          if (now.created !== info.created) throw new PartitionConsumerReplaced(g.stream, name);
        }
        asked = true;
        return g.jsm.consumers.delete(g.stream, name).catch((err: unknown) => {
          if (isConsumerNotFound(err)) return true;
          throw err;
        });
      },
      { signal },
    );
  }
  const config: Partial<ConsumerConfig> = {
    durable_name: name,
    filter_subject: partitionFilter(g.subjectRoot, partition),
    ack_policy: AckPolicy.Explicit,
    ack_wait: ns(g.ackWaitMs),
    // Never let the server drop a message: bounded retries are the runtime's (then the
    // dead-letter stream), and redeliveries after a crash must go on until handled.
    max_deliver: -1,
    max_ack_pending: g.maxAckPending,
    ...(floor > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }
      : { deliver_policy: DeliverPolicy.All }),
  };
  // Asked again after a timeout: JetStream answers a creation with the same config as a
  // success, and refuses one with another (a consumer the next holder created meanwhile).
  await provisioningRequest(g.stream, what("add"), () => g.jsm.consumers.add(g.stream, config), {
    signal,
  });
  return name;
}

function infoOrNone(
  g: Pick<GroupContext, "jsm" | "stream">,
  name: string,
): Promise<ConsumerInfo | undefined> {
  return g.jsm.consumers.info(g.stream, name).catch((err: unknown) => {
    if (isConsumerNotFound(err)) return undefined;
    throw err;
  });
}

function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}
