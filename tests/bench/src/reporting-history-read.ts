import { performance } from "node:perf_hooks";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { MessagingNames } from "@otmetka/messaging";
import { sourceFilter } from "@otmetka/projections";

export const HISTORY_SOURCES = ["identity", "curriculum", "grades"] as const;

/** The raw baseline: every message of the three sources through ordered consumers, no processing. */
export async function orderedReadRate(
  nc: NatsConnection,
  names: MessagingNames,
  expected: Record<string, number>,
): Promise<number> {
  const began = performance.now();
  const js = jetstream(nc);
  const counts = await Promise.all(
    HISTORY_SOURCES.map(async (context) => {
      const total = expected[context] ?? 0;
      if (total === 0) return 0;
      const consumer = await js.consumers.get(names.contextStream(context).name, {
        filter_subjects: sourceFilter(names, context),
        deliver_policy: DeliverPolicy.All,
      });
      let n = 0;
      const messages = await consumer.consume({ max_messages: 10_000 });
      for await (const _ of messages) if (++n === total) break;
      messages.stop();
      return n;
    }),
  );
  const n = counts.reduce((a, b) => a + b, 0);
  return n / ((performance.now() - began) / 1000);
}
