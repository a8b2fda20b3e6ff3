import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { AckBatcher } from "./ack-batcher.js";
import type { EventHandler } from "./consumed-event.js";
import { InvalidMessagingArgument } from "./errors.js";
import type { GroupContext, GroupCounters } from "./group-context.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./handler-runner.js";
import { DEFAULT_LEASE_TTL_MS, openLeaseBucket, openParkingBucket } from "./kv-buckets.js";
import type { MessagingNames } from "./names.js";
import { decodeParked, listParked } from "./parking.js";
import { PartitionWorker } from "./partition-worker.js";
import { ensureStream } from "./provisioning.js";
import { DEFAULT_PARTITIONS, partitionOf, streamIdOfKey } from "./subjects.js";

export interface EventConsumerOptions {
  nc: NatsConnection;
  names: MessagingNames;
  /** Context whose stream is consumed (`grades` → stream `p_GRADES`, subjects `p.grades.v1.>`). */
  context: string;
  /** Durable name `<consumer-service>-<purpose>` (`reporting-grades`), without prefix. */
  durable: string;
  handler: EventHandler;
  /** Must equal the relay's partition count; default 16. */
  partitions?: number;
  /** Unique per process; default host name + random. */
  instanceId?: string;
  /** A crashed instance's partitions are taken over after at most this long; default 10 s. */
  leaseTtlMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Ack wait of the durable consumers (ms); default 30 s (extended by working()). */
  ackWaitMs?: number;
  maxAckPending?: number;
  /** Messages per pull; default 256. */
  batch?: number;
  onError?: (err: unknown, where: string) => void;
}

interface Held {
  worker: PartitionWorker;
  revision: number;
  /** When the last renewal that succeeded was sent: the server's expiry is at least TTL later. */
  renewedAt: number;
  /** The renewal in flight, if any: a give-back waits for it before using `revision`. */
  renewal?: Promise<void>;
}

const NAME = /^[A-Za-z0-9_-]+$/;

/**
 * A durable, partitioned consumer group. Each instance announces itself in the lease bucket;
 * partitions are assigned to live instances by rendezvous hashing, and an instance pulls a
 * partition only while it holds that partition's lease (KV create / update by revision, expiring
 * with the bucket's max age). One puller per partition and sequential handling keep every
 * aggregate stream in version order; any number of instances share the partitions.
 */
export class EventConsumer {
  readonly instanceId: string;
  readonly counters: GroupCounters = {
    handled: 0,
    duplicatesSkipped: 0,
    deadLettered: 0,
    parkedEvents: 0,
    released: 0,
    sessions: 0,
  };
  private g: GroupContext | undefined;
  private leases: KV | undefined;
  private readonly held = new Map<number, Held>();
  /** Workers given back or dropped, still finishing: their partition is not taken again before. */
  private readonly retiring = new Map<number, Promise<void>>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private watchStop: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly partitions: number;
  private readonly ttl: number;

  constructor(private readonly o: EventConsumerOptions) {
    if (!NAME.test(o.durable)) {
      throw new InvalidMessagingArgument(
        "durable",
        `must be letters, digits, '_' or '-', got ${JSON.stringify(o.durable)}`,
      );
    }
    this.partitions = o.partitions ?? DEFAULT_PARTITIONS;
    this.ttl = o.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    const id = o.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.instanceId = id.replace(/[^A-Za-z0-9_-]/g, "-");
  }

  /** Partitions this instance pulls now. */
  get ownedPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<this> {
    const { nc, names } = this.o;
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, names.deadLetterStream);
    const parkingKv = await openParkingBucket(nc, names);
    this.leases = await openLeaseBucket(nc, names, this.ttl);
    const stream = names.contextStream(this.o.context).name;
    this.g = {
      nc,
      js: jetstream(nc),
      jsm,
      names,
      stream,
      subjectRoot: names.eventRoot(this.o.context),
      durable: this.o.durable,
      partitions: this.partitions,
      handler: this.o.handler,
      retry: { ...DEFAULT_RETRY, ...this.o.retry },
      ackWaitMs: this.o.ackWaitMs ?? 30_000,
      maxAckPending: this.o.maxAckPending ?? 1000,
      batch: this.o.batch ?? 256,
      parkingKv,
      parked: new Map(),
      report: (err, where) => this.o.onError?.(err, where),
      counters: this.counters,
      acks: new AckBatcher(),
    };
    for (const p of await listParked(parkingKv, this.o.durable)) this.g.parked.set(p.streamId, p);
    await this.watchParking();
    this.loop = this.coordinate();
    // Apart from the coordination loop, whose round may wait for KV answers for as long as a
    // request's timeout (5 s): leases are renewed, and given up within their TTL, whatever
    // that loop does (its member put, key listing and take-overs do not delay a renewal).
    this.watchdog = setInterval(
      () => this.tendLeases(),
      Math.max(50, Math.floor(this.ttl / 10)),
    ).unref();
    return this;
  }

  /** Stops pulling, lets handlers in progress finish, gives the partitions back. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop; // leases renewed meanwhile: a round may wait for KV answers up to 5 s
    clearInterval(this.watchdog);
    for (const p of [...this.held.keys()]) this.giveBack(p);
    await Promise.all(this.retiring.values());
    this.watchStop?.();
    await this.leases?.delete(this.memberKey()).catch(() => {});
  }

  private memberKey() {
    return `${this.o.durable}.m.${this.instanceId}`;
  }

  private leaseKey(p: number) {
    return `${this.o.durable}.l.${p}`;
  }

  private async watchParking(): Promise<void> {
    const g = this.g!;
    const w = await g.parkingKv.watch({ key: `${this.o.durable}.*` });
    this.watchStop = () => w.stop();
    void (async () => {
      for await (const e of w) {
        const streamId = streamIdOfKey(e.key.slice(this.o.durable.length + 1));
        const current = g.parked.get(streamId);
        if (current && current.revision > e.revision) continue; // stale: we wrote a newer one
        if (e.operation !== "PUT") {
          g.parked.delete(streamId);
          continue;
        }
        const p = decodeParked(this.o.durable, e.key, e.value, e.revision);
        g.parked.set(streamId, p);
        if (p.state !== "parked") this.routeRelease(streamId);
      }
    })().catch((err) => g.report(err, "parking watch"));
  }

  private routeRelease(streamId: string) {
    this.held.get(partitionOf(streamId, this.partitions))?.worker.requestRelease(streamId);
  }

  private async coordinate(): Promise<void> {
    const tick = Math.max(200, Math.floor(this.ttl / 3));
    while (!this.stopping.signal.aborted) {
      try {
        await this.rebalance();
      } catch (err) {
        this.o.onError?.(err, "coordination");
      }
      await sleep(tick, undefined, { signal: this.stopping.signal }).catch(() => {});
    }
  }

  /**
   * Renews each held lease TTL/3 after its last renewal was sent, and stops a partition whose
   * lease could not be renewed for 0.8 × TTL: without renewals it runs out, and another
   * instance may take over.
   */
  private tendLeases() {
    for (const [p, h] of this.held) {
      if (!h.renewal && Date.now() - h.renewedAt >= this.ttl / 3) this.renew(p, h);
    }
    // After the answers already received (setImmediate runs after pending I/O, a timer
    // before it): an event loop held up by CPU work must not count a renewal it has
    // been answered as missing, and drop a lease that is safe.
    setImmediate(() => {
      for (const [p, h] of this.held) {
        if (this.expiring(h.renewedAt)) this.drop(p);
      }
    });
  }

  private renew(p: number, h: Held) {
    // Counted from the sending: the server's expiry runs from its write, after it.
    const sentAt = Date.now();
    h.renewal = this.leases!.update(this.leaseKey(p), this.instanceId, h.revision).then(
      (revision) => {
        h.revision = revision;
        h.renewedAt = sentAt;
        h.renewal = undefined;
      },
      (err) => {
        h.renewal = undefined;
        // Given back meanwhile: the give-back's own renewal finds the lease lost.
        if (this.held.get(p) !== h) return;
        this.o.onError?.(err, `renewing lease of partition ${p}`);
        this.drop(p);
      },
    );
  }

  /** Whether a lease written at `sentAt` (or later) may be about to expire. */
  private expiring(sentAt: number) {
    return Date.now() - sentAt > this.ttl * 0.8;
  }

  private async rebalance(): Promise<void> {
    const kv = this.leases!;
    await kv.put(this.memberKey(), this.instanceId);
    const members: string[] = [];
    const prefix = `${this.o.durable}.m.`;
    for await (const k of await kv.keys(`${prefix}*`)) members.push(k.slice(prefix.length));
    if (!members.includes(this.instanceId)) members.push(this.instanceId);
    // Every partition at once: renewals, give-backs and take-overs do not wait for each other.
    const work: Promise<void>[] = [];
    let parkedLoaded: Promise<void> | undefined;
    for (let p = 0; p < this.partitions; p++) {
      if (this.stopping.signal.aborted) break;
      const mine = ownerOf(p, members) === this.instanceId;
      const h = this.held.get(p);
      if (h && !mine) {
        this.giveBack(p);
      } else if (!h && mine && !this.retiring.has(p)) {
        const sentAt = Date.now();
        work.push(
          kv.create(this.leaseKey(p), this.instanceId).then(
            async (revision) => {
              // Parked state written by other instances must be known before the first message.
              parkedLoaded ??= this.loadParked();
              await parkedLoaded;
              // A lease whose creation took this long may be expiring already: not pulled
              // on, and taken again once it has expired.
              if (!this.expiring(sentAt)) this.takeOver(p, revision, sentAt);
            },
            () => {}, // still held by its previous owner: retried next tick
          ),
        );
      }
    }
    await Promise.all(work);
  }

  private async loadParked() {
    const g = this.g!;
    for (const entry of await listParked(g.parkingKv, this.o.durable)) {
      g.parked.set(entry.streamId, entry);
    }
  }

  private takeOver(p: number, revision: number, renewedAt: number) {
    const g = this.g!;
    const worker = new PartitionWorker(g, p).start();
    this.held.set(p, { worker, revision, renewedAt });
    for (const entry of g.parked.values()) {
      if (entry.state !== "parked" && partitionOf(entry.streamId, this.partitions) === p) {
        worker.requestRelease(entry.streamId);
      }
    }
  }

  /**
   * Stops the worker, then deletes the lease so the new owner need not wait for expiry. The
   * lease stays this instance's until then, renewed meanwhile: left to expire while the event in
   * hand is handled (for longer than the TTL), it would let the next owner pull the partition
   * beside that handler.
   */
  private giveBack(p: number) {
    const h = this.held.get(p);
    if (!h) return;
    this.held.delete(p);
    const kv = this.leases!;
    const stopped = h.worker.stop();
    const quiet = new AbortController();
    const renewing = (async () => {
      const tick = Math.max(200, Math.floor(this.ttl / 3));
      // A renewal sent by tendLeases may still be on its way: its answer is the revision.
      await h.renewal;
      for (;;) {
        await sleep(tick, undefined, { signal: quiet.signal }).catch(() => {});
        if (quiet.signal.aborted) return true;
        try {
          h.revision = await kv.update(this.leaseKey(p), this.instanceId, h.revision);
        } catch (err) {
          this.o.onError?.(err, `renewing lease of partition ${p} while its worker stops`);
          return false; // no longer ours: nothing to delete
        }
      }
    })();
    this.retire(
      p,
      stopped
        .finally(() => quiet.abort())
        .then(async () => {
          if (!(await renewing)) return;
          await kv
            .delete(this.leaseKey(p), { previousSeq: h.revision })
            .catch((err) => this.o.onError?.(err, `releasing lease of partition ${p}`));
        }),
    );
  }

  /** The lease is (or may be) lost: stop at once, touch nothing. */
  private drop(p: number) {
    const h = this.held.get(p);
    if (!h) return;
    this.held.delete(p);
    this.retire(p, h.worker.stop());
  }

  /**
   * Tracks a worker stopping in the background: a handler or a consumer preparation may take
   * long, and the coordination loop must go on renewing the other partitions' leases meanwhile.
   */
  private retire(p: number, stopping: Promise<unknown>) {
    const done = stopping.then(
      () => {},
      (err) => this.o.onError?.(err, `stopping partition ${p}`),
    );
    this.retiring.set(p, done);
    void done.finally(() => {
      if (this.retiring.get(p) === done) this.retiring.delete(p);
    });
  }
}

/** Rendezvous hashing: each partition goes to the member with the highest score. */
export function ownerOf(partition: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    // sha1, not FNV: ids differing in one character must still spread over partitions.
    const score = createHash("sha1").update(`${m}:${partition}`).digest().readUInt32BE(0);
    if (score > bestScore || (score === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}
