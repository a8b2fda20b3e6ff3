import { type ConsumerMessages, type JsMsg, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { PortalNames } from "../stream.js";
import { SIGNATURE_HEADER, signWebhook } from "./signature.js";

export interface WebhookBridgeOptions {
  nc: NatsConnection;
  pool: pg.Pool;
  names: PortalNames;
  subscriber: string;
  url: string;
  secret: string;
  /** Attempts per message before it is dead-lettered; default 8. */
  maxAttempts?: number;
  /** First back-off; doubled per attempt up to maxBackoffMs. Defaults 500 ms, 60 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * Delivers a webhook subscriber's consumer by HTTP POST, one message at a time in stream order
 * (so in order per pupil). A message that keeps failing goes to the dead-letter table and its
 * subject is parked: later messages of that pupil (or programme, school) follow it there, in
 * order, while every other subject keeps flowing. Operators list and re-drive dead letters.
 */
export class WebhookBridge {
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private parked = new Set<string>();
  // Deliveries and re-drives take turns, so a re-driven subject cannot be overtaken.
  private serial: Promise<unknown> = Promise.resolve();
  readonly counters = { delivered: 0, failedAttempts: 0, deadLettered: 0 };

  constructor(private readonly o: WebhookBridgeOptions) {}

  async start(): Promise<this> {
    const r = await this.o.pool.query<{ subject: string }>(
      "SELECT DISTINCT subject FROM portal.webhook_dead_letters WHERE subscriber = $1",
      [this.o.subscriber],
    );
    this.parked = new Set(r.rows.map((x) => x.subject));
    const consumer = await jetstream(this.o.nc).consumers.get(
      this.o.names.stream,
      this.o.names.durable(this.o.subscriber),
    );
    this.messages = await consumer.consume({ max_messages: 100 });
    this.running = (async () => {
      for await (const m of this.messages as ConsumerMessages) {
        await this.turn(() => this.handle(m));
        if (this.stopped) break;
      }
    })().catch((err) => this.o.onError?.(err));
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.running;
  }

  private turn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(fn);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /**
   * Operator: POSTs a parked subject's dead letters again in order, deleting each delivered one;
   * when none is left the subject flows again. Returns how many were delivered; one failing
   * again stops there (the subject stays parked).
   */
  redrive(subject: string): Promise<number> {
    return this.turn(async () => {
      let n = 0;
      for (const d of await listDeadLetters(this.o.pool, this.o.subscriber)) {
        if (d.subject !== subject) continue;
        try {
          await this.post(d.body, 1);
        } catch {
          return n;
        }
        await this.o.pool.query("DELETE FROM portal.webhook_dead_letters WHERE id = $1", [d.id]);
        n++;
      }
      this.parked.delete(subject);
      return n;
    });
  }

  private async handle(m: JsMsg): Promise<void> {
    const body = m.string();
    if (this.parked.has(m.subject)) {
      await this.deadLetter(
        m,
        body,
        "parked",
        "an earlier message of this subject is dead-lettered",
        0,
      );
      m.ack();
      return;
    }
    const max = this.o.maxAttempts ?? 8;
    let lastError = "";
    for (let attempt = 1; attempt <= max && !this.stopped; attempt++) {
      try {
        await this.post(body, attempt);
        this.counters.delivered++;
        m.ack();
        return;
      } catch (err) {
        lastError = (err as Error).message;
        this.counters.failedAttempts++;
        if (attempt === max) break;
        m.working(); // keep the ack wait from expiring while backing off
        const base = this.o.backoffMs ?? 500;
        await sleep(Math.min(base * 2 ** (attempt - 1), this.o.maxBackoffMs ?? 60_000));
      }
    }
    if (this.stopped) return; // not acked: redelivered to the next run
    await this.deadLetter(m, body, "failed", lastError, max);
    this.parked.add(m.subject);
    this.counters.deadLettered++;
    m.ack();
  }

  private async post(body: string, attempt: number): Promise<void> {
    const res = await fetch(this.o.url, {
      method: "POST",
      headers: {
        "content-type": "application/cloudevents+json; charset=utf-8",
        [SIGNATURE_HEADER]: signWebhook(this.o.secret, body, new Date()),
        "otmetka-delivery-attempt": String(attempt),
      },
      body,
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
  }

  private async deadLetter(
    m: JsMsg,
    body: string,
    reason: string,
    error: string,
    attempts: number,
  ) {
    await this.o.pool.query(
      `INSERT INTO portal.webhook_dead_letters (subscriber, stream_sequence, subject, body, reason, error, attempts)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subscriber, stream_sequence) DO NOTHING`,
      [this.o.subscriber, m.seq, m.subject, body, reason, error, attempts],
    );
  }
}

export interface DeadLetter {
  id: number;
  streamSequence: number;
  subject: string;
  reason: string;
  error: string;
  attempts: number;
  body: string;
  createdAt: Date;
}

/** The operators' list, oldest first. */
export async function listDeadLetters(pool: pg.Pool, subscriber: string): Promise<DeadLetter[]> {
  const r = await pool.query(
    `SELECT id, stream_sequence, subject, reason, error, attempts, body, created_at FROM portal.webhook_dead_letters
     WHERE subscriber = $1 ORDER BY stream_sequence`,
    [subscriber],
  );
  return r.rows.map((x) => ({
    id: Number(x.id),
    streamSequence: Number(x.stream_sequence),
    subject: x.subject,
    reason: x.reason,
    error: x.error,
    attempts: x.attempts,
    body: x.body,
    createdAt: x.created_at,
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
