import type { ConsumerMessages } from "@nats-io/jetstream";

/** Status notifications after which a consume() is ended and started afresh. */
const RESTART_ON = new Set([
  "consumer_deleted",
  "consumer_not_found",
  "stream_not_found",
  "heartbeats_missed",
]);

/**
 * Stops `messages` (its iteration ends) once its consumer or stream is gone or heartbeats are
 * missed, so that the caller starts a new consume(): nats.js would otherwise retry forever
 * against a vanished consumer.
 */
export function stopOnConsumerLoss(messages: ConsumerMessages): void {
  void (async () => {
    for await (const s of messages.status()) {
      if (RESTART_ON.has(s.type)) {
        messages.stop();
        return;
      }
    }
  })().catch(() => {});
}
