import type { Caller } from "@otmetka/service-kit";
import type { CallerAuth } from "../http/gateway.js";

/**
 * A subscription's notices while its caller's token holds: an SSE stream is authenticated
 * once, when it opens, and would otherwise outlive the token's expiry and a revocation of its
 * account or its session (logout). Each notice checks the token again (a revoked one ends the
 * stream with UNAUTHENTICATED), and the stream ends at the token's expiry even when no notice
 * comes.
 * A plain iterator, not an async generator: `return` must end a stream waiting for a notice.
 */
export function whileCallerValid<T>(
  auth: CallerAuth,
  caller: Caller,
  inner: AsyncIterator<T>,
): AsyncIterableIterator<T> {
  let expired = false;
  const exp = auth.expiresAt(caller);
  const timer =
    exp === undefined
      ? undefined
      : setTimeout(
          () => {
            expired = true;
            void inner.return?.();
          },
          // The verifier's clock (Date.now), not the gateway's `now`, which says what day it is
          // in the school; setTimeout takes at most 2^31-1 ms.
          Math.min(Math.max(exp - Date.now(), 0), 2 ** 31 - 1),
        );
  timer?.unref();
  const stop = () => clearTimeout(timer);
  const it: AsyncIterableIterator<T> = {
    async next() {
      const r = await inner.next();
      try {
        // Ended by the expiry timer, or a notice for a token revoked since: an error, not a quiet end.
        if (expired) throw auth.expired();
        if (r.done) return r;
        auth.refuseRevoked(caller);
        return r;
      } catch (err) {
        stop();
        await inner.return?.();
        throw err;
      }
    },
    async return(value?: unknown) {
      stop();
      return (await inner.return?.(value)) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
