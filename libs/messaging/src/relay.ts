import { setTimeout as sleep } from "node:timers/promises";
import { type JetStreamClient, jetstream, jetstreamManager, type PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ReadAllPage, RecordedEvent } from "@otmetka/eventstore";
import { type EventRouting, toMessage } from "./event-message.js";
import type { LogReader } from "./log-reader.js";
import { type HeldLock, tryRelayLock } from "./relay-lock.js";
import { type ResumePoint, readResumePoint } from "./relay-resume.js";

export interface RelayOptions extends EventRouting {
  nc: NatsConnection;
  log: LogReader;
  /** JetStream stream the relay alone writes to (messagingNames().contextStream(ctx).name). */
  stream: string;
  /** Database of the log; the relay's advisory lock is taken there on its own connection. */
  databaseUrl: string;
  /** Publishes awaiting their ack at once; default 256. */
  maxInFlight?: number;
  /** Events read per `readAll`; default 1000. */
  batchSize?: number;
  /** Wait between polls when caught up (ms); default 50. */
  pollIntervalMs?: number;
  /** A standby retries the lock this often (ms); default 1000. */
  lockRetryMs?: number;
  /** Ack timeout of one publish (ms); default 5000. */
  publishTimeoutMs?: number;
  /** Called with errors the relay recovers from (logged by the caller). */
  onError?: (err: unknown) => void;
}

export interface RelayStats {
  /** Whether this instance holds the lock and publishes. */
  active: boolean;
  published: number;
  /** Times the relay re-read the stream's end after a failed or rejected publish. */
  resyncs: number;
  /** Last log checkpoint known to be in the stream. */
  checkpoint: string | undefined;
}

/**
 * The outbox relay: tails the service's log and publishes each committed event to its
 * JetStream stream, in log order, many publishes in flight. Each publish carries the expected
 * last stream sequence, so the stream stays a gapless ordered prefix of the log: when one
 * publish fails, every later one in flight is rejected too, and the relay re-reads the
 * stream's last message and resumes after its log checkpoint (README: "Nothing lost").
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly s: RelayStats = {
    active: false,
    published: 0,
    resyncs: 0,
    checkpoint: undefined,
  };

  constructor(private readonly o: RelayOptions) {
    this.js = jetstream(o.nc);
  }

  get stats(): Readonly<RelayStats> {
    return this.s;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private report(err: unknown) {
    this.o.onError?.(err);
  }

  private async run(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      let lock: HeldLock | null = null;
      try {
        lock = await tryRelayLock(this.o.databaseUrl, this.o.stream);
      } catch (err) {
        this.report(err);
      }
      if (!lock) {
        await sleep(this.o.lockRetryMs ?? 1000, undefined, { signal: stop }).catch(() => {});
        continue;
      }
      this.s.active = true;
      try {
        await this.publishWhileHolding(AbortSignal.any([stop, lock.lost]));
      } finally {
        this.s.active = false;
        await lock.release();
      }
    }
  }

  private async publishWhileHolding(signal: AbortSignal): Promise<void> {
    const batchSize = this.o.batchSize ?? 1000;
    let pos: ResumePoint | undefined;
    // The next page is read while the current one is being published.
    let next: Promise<ReadAllPage> | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!pos) {
          next = undefined;
          pos = await this.resync();
        }
        const page = await (next ?? this.o.log.readAll(pos.checkpoint, batchSize));
        next = undefined;
        if (page.events.length === 0) {
          await sleep(this.o.pollIntervalMs ?? 50, undefined, { signal }).catch(() => {});
          continue;
        }
        if (page.events.length === batchSize) {
          next = this.o.log.readAll(page.checkpoint, batchSize);
          next.catch(() => {}); // awaited (or dropped) on the next turn
        }
        const published = await this.publishInOrder(page.events, pos.lastSequence, signal);
        this.s.published += published;
        if (published === page.events.length) {
          pos = { checkpoint: page.checkpoint, lastSequence: pos.lastSequence + published };
          this.s.checkpoint = pos.checkpoint;
        } else {
          pos = undefined; // re-read the stream's end before going on
        }
        failures = 0;
      } catch (err) {
        this.report(err);
        pos = undefined;
        failures++;
        const backoff = Math.min(100 * 2 ** Math.min(failures, 5), 3000);
        await sleep(backoff, undefined, { signal }).catch(() => {});
      }
    }
  }

  private async resync(): Promise<ResumePoint> {
    const jsm = await jetstreamManager(this.o.nc);
    const point = await readResumePoint(jsm, this.o.stream);
    this.s.resyncs++;
    this.s.checkpoint = point.checkpoint;
    return point;
  }

  /**
   * Publishes `events` expecting the stream to end at `lastSequence`; returns how many went in
   * before the first failure (all of them when none failed). Later publishes in flight after a
   * failure are rejected by the server's sequence check, so nothing out of order lands.
   */
  private async publishInOrder(
    events: readonly RecordedEvent[],
    lastSequence: number,
    signal: AbortSignal,
  ): Promise<number> {
    const maxInFlight = this.o.maxInFlight ?? 256;
    const timeout = this.o.publishTimeoutMs ?? 5000;
    const inFlight = new Set<Promise<void>>();
    let firstFailure = Number.POSITIVE_INFINITY;
    let failure: unknown;
    let issued = 0;
    for (let i = 0; i < events.length; i++) {
      if (firstFailure !== Number.POSITIVE_INFINITY || signal.aborted) break;
      const expected = lastSequence + i;
      const m = toMessage(events[i]!, this.o);
      const p = this.js
        .publish(m.subject, m.payload, {
          msgID: m.msgId,
          headers: m.headers,
          expect: { lastSequence: expected },
          timeout,
        })
        .then(
          (ack: PubAck) => {
            // A duplicate did not take sequence expected+1: everything after it is off by one.
            if (ack.duplicate || ack.seq !== expected + 1) firstFailure = Math.min(firstFailure, i);
          },
          (err: unknown) => {
            if (i < firstFailure) failure = err;
            firstFailure = Math.min(firstFailure, i);
          },
        );
      issued++;
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) this.report(failure);
    return Math.min(firstFailure, issued);
  }
}
