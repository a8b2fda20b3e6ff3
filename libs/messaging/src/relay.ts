import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ReadAllPage, RecordedEvent } from "@otmetka/eventstore";
import { AckedPublisher, type StoredAck } from "./acked-publisher.js";
import { envelopeHeaderBlock } from "./envelope.js";
import { PublishOutOfSequence } from "./errors.js";
import { type EventRouting, messageSubject } from "./event-message.js";
import type { LogReader } from "./log-reader.js";
import { type HeldLock, tryRelayLock } from "./relay-lock.js";
import { type ResumePoint, readResumePoint } from "./relay-resume.js";
import { Wakeup } from "./wakeup.js";

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
  /**
   * Wait between polls when caught up and idle (ms); default 50, or 500 when the log tells of
   * this process's appends (`LogReader.onAppended`): those wake the relay at once, and only
   * another process's appends after a quiet spell wait for the poll. An idle poll costs
   * ~1.5 ms of CPU on these VMs (timer wake-up and round trip): 20 a second were 34-38 ms of
   * CPU a second in node and 8-12 in PostgreSQL for every idle service.
   */
  pollIntervalMs?: number;
  /**
   * Wait between polls while events keep coming (something was published within the last
   * `activeWindowMs`); default 10. A steady trickle of commits otherwise waited for the idle
   * interval each time: up to 50 ms of every event's commit → publish latency.
   */
  activePollIntervalMs?: number;
  /** How long after the last published event polling stays at the active interval; default 1000. */
  activeWindowMs?: number;
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
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly s: RelayStats = {
    active: false,
    published: 0,
    resyncs: 0,
    checkpoint: undefined,
  };

  constructor(private readonly o: RelayOptions) {}

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
    const pipe = new PublishPipeline(
      this.o.maxInFlight ?? 256,
      new AckedPublisher(this.o.nc, this.o.publishTimeoutMs ?? 5000),
    );
    let pos: ResumePoint | undefined;
    // The next page is read while the current one is being published.
    let next: Promise<ReadAllPage> | undefined;
    let failures = 0;
    let lastEventAt = Number.NEGATIVE_INFINITY;
    const wakeup = new Wakeup();
    // An append of this process ends an idle wait (read now) and starts the active window (it
    // may be in a transaction that commits a little later). While active, the 10 ms polls
    // already batch a stream of appends; waking on each of them as well took the reporting
    // lag p99 at 500 appends a second to 211-912 ms here (240-402 without wake-ups).
    let idleWait = false;
    const unsubscribe = this.o.log.onAppended?.(() => {
      lastEventAt = performance.now();
      if (idleWait) wakeup.wake();
    });
    const idleMs = this.o.pollIntervalMs ?? (unsubscribe ? 500 : 50);
    while (!signal.aborted) {
      try {
        if (!pos || pipe.failed) {
          // Everything issued must settle before the stream's end is read again.
          next = undefined;
          await pipe.drain();
          if (pipe.failure !== undefined) this.report(pipe.failure);
          pipe.reset();
          pos = await this.resync();
        }
        const page = await (next ?? this.o.log.readAll(pos.checkpoint, batchSize));
        next = undefined;
        if (page.events.length === 0) {
          await pipe.drain(); // caught up: settle, so a failure is seen before idling
          if (!pipe.failed) {
            const active = performance.now() - lastEventAt < (this.o.activeWindowMs ?? 1000);
            idleWait = !active;
            await wakeup.wait(active ? (this.o.activePollIntervalMs ?? 10) : idleMs, signal);
            idleWait = false;
          }
          continue;
        }
        lastEventAt = performance.now();
        if (page.events.length === batchSize) {
          next = this.o.log.readAll(page.checkpoint, batchSize);
          next.catch(() => {}); // awaited (or dropped) on the next turn
        }
        // Publishes stay in flight across pages; positions advance as they are issued and
        // a failure anywhere sends the relay back to the stream's real end.
        for (const event of page.events) {
          if (pipe.failed || signal.aborted) break;
          this.issue(pipe, event, pos.lastSequence);
          pos.lastSequence++;
          // Yield only when the window is full: publishes issued in one turn go out in one
          // socket write (nats.js flushes on a microtask).
          if (pipe.full) await pipe.roomFreed();
        }
        if (!pipe.failed) {
          pos.checkpoint = page.checkpoint;
          this.s.checkpoint = pos.checkpoint;
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
    unsubscribe?.();
    await pipe.drain();
    pipe.close();
  }

  private async resync(): Promise<ResumePoint> {
    const jsm = await jetstreamManager(this.o.nc);
    const point = await readResumePoint(jsm, this.o.stream);
    this.s.resyncs++;
    this.s.checkpoint = point.checkpoint;
    return point;
  }

  /**
   * Publishes one event expecting the stream to end at `lastSequence`. Once one publish fails, every later one in flight is rejected by the server's
   * sequence check, so nothing lands after a gap.
   */
  private issue(pipe: PublishPipeline, event: RecordedEvent, lastSequence: number): void {
    const expected = lastSequence;
    const headers = envelopeHeaderBlock(event, this.o.source, [
      [EXPECTED_LAST_SEQUENCE, String(expected)],
    ]);
    pipe.publish(
      messageSubject(event, this.o),
      encoder.encode(JSON.stringify(event.data)),
      encoder.encode(headers),
      (ack: StoredAck) => {
        // A duplicate did not take sequence expected+1: everything after it is off by one.
        if (ack.duplicate || ack.seq !== expected + 1) {
          throw new PublishOutOfSequence(event.eventId, expected + 1);
        }
        this.s.published++;
      },
    );
  }
}

/** JetStream's header for the optimistic check (nats.js `expect.lastSequence`). */
const EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence";
const encoder = new TextEncoder();

/**
 * Publishes in flight, at most `max`; remembers the first failure. A counter and one waiter:
 * `Promise.race` over the in-flight set added a reaction to each of the 256 promises per
 * event once full (quadratic in promises, most of the relay's garbage).
 */
class PublishPipeline {
  private inFlight = 0;
  private waiter: (() => void) | undefined;
  failed = false;
  failure: unknown;

  constructor(
    private readonly max: number,
    private readonly publisher: AckedPublisher,
  ) {}

  get full(): boolean {
    return this.inFlight >= this.max;
  }

  /** Resolves when a publish settles (at once if none is in flight). */
  roomFreed(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.waiter;
      this.waiter = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Publishes and tracks one message; `acked` may throw to fail it. */
  publish(
    subject: string,
    payload: Uint8Array,
    headers: Uint8Array,
    acked: (ack: StoredAck) => void,
  ): void {
    this.inFlight++;
    this.publisher.publish(subject, payload, headers, (err, ack) => {
      try {
        if (err) throw err;
        acked(ack as StoredAck);
      } catch (failure) {
        if (!this.failed) this.failure = failure;
        this.failed = true;
      }
      this.settled();
    });
  }

  private settled(): void {
    this.inFlight--;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async drain(): Promise<void> {
    while (this.inFlight > 0) await this.roomFreed();
  }

  reset(): void {
    this.failed = false;
    this.failure = undefined;
  }

  /** After drain(): stops the publisher's inbox subscription. */
  close(): void {
    this.publisher.close();
  }
}
