import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "@otmetka/service-kit";

/** A change notice of reporting (libs/projections "Change notices"): a refetch hint. */
export interface ChangeNotice {
  kind: string;
  id: string;
  /** The committing batch's checkpoints, as reporting sent them. */
  checkpoints?: unknown;
}

type Listener = (n: ChangeNotice) => void;

/**
 * One core-NATS subscription per gateway instance on `<prefix>.reporting.v1.changed.>`, no
 * queue group (every instance serves its own SSE clients), fanned out in memory to the open
 * GraphQL subscriptions. Notices may be lost (fire and forget upstream); clients refetch.
 */
export class NoticeHub {
  private readonly listeners = new Set<Listener>();
  private sub: Subscription | undefined;

  start(nc: NatsConnection, subject: string, logger: Logger): void {
    this.sub = nc.subscribe(subject);
    void (async () => {
      for await (const m of this.sub as Subscription) {
        let n: ChangeNotice;
        try {
          n = m.json<ChangeNotice>();
        } catch (err) {
          logger.warn({ err, subject: m.subject }, "unreadable change notice");
          continue;
        }
        if (typeof n?.kind !== "string" || typeof n.id !== "string") continue;
        this.deliver(n);
      }
    })();
  }

  /** Hands one notice to every listener (what each NATS message does; tests call it directly). */
  deliver(n: ChangeNotice): void {
    for (const l of this.listeners) l(n);
  }

  /** Every notice, for in-process listeners (the dashboard cache); returns the unsubscribe. */
  listen(l: (n: ChangeNotice) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  /** The notices that `match`, until the subscriber goes away. */
  stream(match: (n: ChangeNotice) => boolean): AsyncIterableIterator<ChangeNotice> {
    const queue: ChangeNotice[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const listener: Listener = (n) => {
      if (!match(n)) return;
      // A hint already waiting says the same (the client sees kind and id only): one refetch,
      // one policy check, however many commits a burst (reporting catching up) announced.
      const waiting = queue.findIndex((q) => q.kind === n.kind && q.id === n.id);
      if (waiting >= 0) {
        queue[waiting] = n;
        return;
      }
      // A slow client keeps only the latest 100 hints: they are refetch triggers.
      if (queue.length >= 100) queue.shift();
      queue.push(n);
      wake?.();
    };
    this.listeners.add(listener);
    const finish = () => {
      done = true;
      this.listeners.delete(listener);
      wake?.();
    };
    const it: AsyncIterableIterator<ChangeNotice> = {
      async next() {
        while (!done && queue.length === 0) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        const value = queue.shift();
        return value && !done ? { value, done: false } : { value: undefined, done: true };
      },
      async return() {
        finish();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}
