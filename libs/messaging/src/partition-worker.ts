import { setTimeout as sleep } from "node:timers/promises";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { AckBatcher } from "./ack-batcher.js";
import { type ConsumedEvent, consumedEvent } from "./consumed-event.js";
import { stopOnConsumerLoss } from "./consumer-loss.js";
import { deadLetter, readDeadLetters } from "./dead-letter.js";
import { type Delivery, deliveryOf } from "./delivery-info.js";
import { type Envelope, readEnvelope } from "./envelope.js";
import { decodeData } from "./envelope-event.js";
import { type ScannedEnvelope, scanEnvelope, traceCarrier } from "./envelope-scan.js";
import type { GroupContext } from "./group-context.js";
import { type AttemptOutcome, attemptWithRetries, errorText, runTraced } from "./handler-runner.js";
import { parkingKey, readParked, writeParked } from "./parking.js";
import { preparePartitionConsumer } from "./partition-consumer.js";

/**
 * The one active puller of a partition (while its instance holds the partition's lease).
 * Handles messages one at a time, in stream order, and acks each after its handler
 * returned; operator releases run in the same serial order.
 */
export class PartitionWorker {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private messages: ConsumerMessages | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** The message being handled (its handling's promise): a release waits for it. */
  private inHand: Promise<unknown> = Promise.resolve();
  private releasesQueued = 0;
  private readonly acks: AckBatcher;
  /** Highest version handled per aggregate stream while this worker lives: redeliveries skip. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly g: GroupContext,
    readonly partition: number,
  ) {
    this.acks = g.acks;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Stops after the event in hand (its handler is not interrupted). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.messages?.close().catch(() => {});
    await this.loop;
    await this.chain.catch(() => {});
    this.acks.flush();
  }

  /**
   * Queues re-handling of a released stream behind the event in hand. That event was taken
   * outside the serial chain (no release was queued then): the release waits for it, else it
   * ran beside it — two handlers of one partition at once, and a parked event the one in hand
   * was still dead-lettering missed by the release and left in the dead-letter stream.
   */
  requestRelease(streamId: string): void {
    this.releasesQueued++;
    const inHand = this.inHand;
    const release = () => this.release(streamId);
    void this.serial(() => inHand.then(release, release))
      .catch((err) => this.g.report(err, `release of ${streamId}`))
      .finally(() => this.releasesQueued--);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.then(task, task);
    this.chain = next.catch(() => {});
    return next;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.session(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        this.g.report(err, `partition ${this.partition}`);
        failures++;
      }
      if (signal.aborted) break;
      const wait = Math.min(100 * 2 ** Math.min(failures, 5), 2000);
      await sleep(wait, undefined, { signal }).catch(() => {});
    }
  }

  /** One consume() of the partition's durable consumer, until it fails or must restart. */
  private async session(signal: AbortSignal): Promise<void> {
    const name = await preparePartitionConsumer(this.g, this.partition, signal);
    this.g.counters.sessions++;
    const consumer = await this.g.js.consumers.get(this.g.stream, name);
    const messages = await consumer.consume({ max_messages: this.g.batch, expires: 5000 });
    this.messages = messages;
    if (signal.aborted) {
      // Not close(): it waits for the iteration to end, and nobody iterates these (nats.js
      // runs a consume's stop from inside its iterator); stop() ends the pulling.
      messages.stop();
      return;
    }
    stopOnConsumerLoss(messages);
    let lastDelivery = 0;
    try {
      for await (const m of messages) {
        if (signal.aborted) break;
        // A jump in the delivery sequence means deliveries were lost on the way (a NATS
        // restart): later messages must not overtake them, so restart at the ack floor.
        const d = deliveryOf(m);
        if (lastDelivery > 0 && d.deliverySequence !== lastDelivery + 1) break;
        lastDelivery = d.deliverySequence;
        // Through the serial chain only while an operator release is queued.
        const handling =
          this.releasesQueued > 0
            ? this.serial(() => this.handleMessage(m, d, signal))
            : this.handleMessage(m, d, signal);
        this.inHand = handling;
        if (!(await handling)) break;
      }
    } finally {
      this.acks.flush();
      messages.stop();
      await messages.closed().catch(() => {});
    }
  }

  /** Returns false when stopped before the message was settled. */
  private async handleMessage(m: JsMsg, d: Delivery, signal: AbortSignal): Promise<boolean> {
    let scanned: ScannedEnvelope;
    try {
      scanned = scanEnvelope(m);
    } catch (err) {
      // Not an event of ours: keep it in the dead-letter stream, out of everyone's way.
      await deadLetter(this.g.js, this.g.names, m, `seq-${d.streamSequence}`, {
        durable: this.g.durable,
        streamId: "_malformed",
        reason: "poison",
        error: errorText(err),
      });
      this.acks.ack(m);
      return true;
    }
    const env = scanned.envelope;
    if ((this.seen.get(env.streamId) ?? 0) >= env.version) {
      this.g.counters.duplicatesSkipped++;
      this.acks.ack(m);
      return true;
    }
    if (this.g.parked.has(env.streamId)) {
      await deadLetter(this.g.js, this.g.names, m, env.eventId, {
        durable: this.g.durable,
        streamId: env.streamId,
        reason: "parked",
      });
      this.g.counters.parkedEvents++;
      this.seen.set(env.streamId, env.version);
      this.acks.ack(m);
      return true;
    }
    const event = consumedEvent(env, m, d.deliveryCount, d.streamSequence);
    const carrier = traceCarrier(scanned);
    const base = event.attempt - 1;
    // Fast path: the first attempt inline; the retry machinery only after a failure.
    let outcome: AttemptOutcome | "stopped";
    try {
      await runTraced(this.g.handler, event, carrier);
      outcome = { ok: true };
    } catch (firstError) {
      outcome =
        this.g.retry.maxDeliver <= 1
          ? { ok: false, error: firstError, attempts: 0 }
          : await attemptWithRetries(
              (attempt) => {
                // The same event object with its attempt counted (a spread would drop the
                // lazily read data and headers).
                event.attempt = base + attempt + 1;
                return runTraced(this.g.handler, event, carrier);
              },
              { ...this.g.retry, maxDeliver: this.g.retry.maxDeliver - 1 },
              signal,
              () => m.working(),
              true,
            );
      if (outcome !== "stopped" && !outcome.ok) outcome.attempts++;
    }
    if (outcome === "stopped") return false;
    if (!outcome.ok) {
      await this.park(m, env, errorText(outcome.error), outcome.attempts);
    } else {
      this.g.counters.handled++;
    }
    this.seen.set(env.streamId, env.version);
    this.acks.ack(m);
    return true;
  }

  private async park(m: JsMsg, env: Envelope, error: string, attempts: number): Promise<void> {
    await deadLetter(this.g.js, this.g.names, m, env.eventId, {
      durable: this.g.durable,
      streamId: env.streamId,
      reason: "poison",
      error,
      attempts,
    });
    const entry = {
      durable: this.g.durable,
      streamId: env.streamId,
      state: "parked" as const,
      eventId: env.eventId,
      version: env.version,
      error,
      parkedAt: new Date().toISOString(),
    };
    // Local first: the next event of this stream, maybe already in hand, must see it.
    this.g.parked.set(env.streamId, { ...entry, revision: 0 });
    const revision = await writeParked(this.g.parkingKv, entry);
    this.g.parked.set(env.streamId, { ...entry, revision });
    this.g.counters.deadLettered++;
  }

  /**
   * Re-handles a released stream's dead-lettered events in order (dropping the poison event
   * first when skipped). A failure parks the stream again at that event.
   */
  private async release(streamId: string): Promise<void> {
    const entry = await readParked(this.g.parkingKv, this.g.durable, streamId);
    if (!entry || entry.state === "parked") return;
    const dlqStream = this.g.names.deadLetterStream.name;
    const letters = await readDeadLetters(this.g.jsm, this.g.names, this.g.durable, streamId);
    let skip = entry.state === "skip";
    for (const letter of letters) {
      if (skip && letter.reason === "poison") {
        await this.g.jsm.streams.deleteMessage(dlqStream, letter.seq);
        skip = false;
        continue;
      }
      skip = false;
      const env = readEnvelope(letter.headers, letter.subject);
      const event: ConsumedEvent = {
        ...env,
        data: decodeData(letter.data),
        subject: letter.headers.get("Otmetka-Original-Subject") || letter.subject,
        streamSequence: Number(letter.headers.get("Otmetka-Original-Sequence") || 0),
        attempt: 1,
        released: true,
        headers: letter.headers,
      };
      const outcome = await attemptWithRetries(
        (attempt) => runTraced(this.g.handler, { ...event, attempt }, letter.headers),
        this.g.retry,
        this.stopping.signal,
      );
      if (outcome === "stopped") return;
      if (!outcome.ok) {
        const again = {
          ...entry,
          state: "parked" as const,
          eventId: env.eventId,
          version: env.version,
          error: errorText(outcome.error),
          parkedAt: new Date().toISOString(),
        };
        const revision = await writeParked(this.g.parkingKv, again, entry.revision);
        this.g.parked.set(streamId, { ...again, revision });
        return;
      }
      this.g.counters.released++;
      await this.g.jsm.streams.deleteMessage(dlqStream, letter.seq);
    }
    this.g.parked.delete(streamId);
    await this.g.parkingKv
      .delete(parkingKey(this.g.durable, streamId), { previousSeq: entry.revision })
      .catch((err) => this.g.report(err, `unpark ${streamId}`));
  }
}
