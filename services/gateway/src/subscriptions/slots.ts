import { gqlError } from "../http/errors.js";

/**
 * Open subscriptions per account on this gateway instance, over SSE and WebSocket together.
 * Each holds a NoticeHub listener, a queue and a connection's memory; the per-minute rate limit
 * counts one request per subscription, so without this an account could hold thousands over time.
 */
export class SubscriptionSlots {
  private readonly open = new Map<string, number>();

  constructor(readonly perAccount: number) {}

  /** The subscriptions `accountId` holds now. */
  held(accountId: string): number {
    return this.open.get(accountId) ?? 0;
  }

  /**
   * Opens `stream` in one of `accountId`'s slots (RATE_LIMITED when all are taken, nothing
   * opened). The slot is given back once, whatever ends the stream: `return` (client or socket
   * gone, server closing), `throw`, the stream ending or failing.
   */
  hold<T>(accountId: string, stream: () => AsyncIterator<T>): AsyncIterableIterator<T> {
    const n = this.held(accountId);
    if (n >= this.perAccount)
      throw gqlError(
        "RATE_LIMITED",
        `authorization: more than ${this.perAccount} open subscriptions of one account; end one first`,
      );
    this.open.set(accountId, n + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = this.held(accountId) - 1;
      // No entry for an account without subscriptions: the map holds open ones only.
      if (left > 0) this.open.set(accountId, left);
      else this.open.delete(accountId);
    };
    let inner: AsyncIterator<T>;
    try {
      inner = stream();
    } catch (err) {
      release();
      throw err;
    }
    const it: AsyncIterableIterator<T> = {
      async next() {
        try {
          const r = await inner.next();
          if (r.done) release();
          return r;
        } catch (err) {
          release();
          throw err;
        }
      },
      async return(value?: unknown) {
        try {
          return (await inner.return?.(value)) ?? { value: undefined, done: true };
        } finally {
          release();
        }
      },
      async throw(err?: unknown) {
        try {
          if (inner.throw) return await inner.throw(err);
          throw err;
        } finally {
          release();
        }
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}
