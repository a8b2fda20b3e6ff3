import type { Caller, Logger } from "@otmetka/service-kit";
import type { CallerAuth } from "../http/gateway.js";
import { guardedStream } from "./guarded-stream.js";

/**
 * A subscription's notices while its caller's token holds: an SSE stream is authenticated
 * once, when it opens, and would otherwise outlive the token's expiry and a revocation of its
 * account or its session (logout). Each notice checks the token again (a revoked one ends the
 * stream with UNAUTHENTICATED), and the stream ends at the token's expiry even when no notice
 * comes (with UNAUTHENTICATED too: an error, not a quiet end). How it ends (`return`, `throw`;
 * no notice after that) is guarded-stream.ts's.
 */
export function whileCallerValid<T>(
  auth: CallerAuth,
  caller: Caller,
  inner: AsyncIterator<T>,
  logger?: Logger,
): AsyncIterableIterator<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guarded = guardedStream(inner, {
    check: () => auth.refuseRevoked(caller),
    onEnd: () => clearTimeout(timer),
    onCloseError: (err) => logger?.warn({ err }, "subscription's notice stream failed to end"),
  });
  const exp = auth.expiresAt(caller);
  if (exp !== undefined) {
    timer = setTimeout(
      () => guarded.fail(auth.expired()),
      // The verifier's clock (Date.now), not the gateway's `now`, which says what day it is
      // in the school; setTimeout takes at most 2^31-1 ms.
      Math.min(Math.max(exp - Date.now(), 0), 2 ** 31 - 1),
    );
    timer.unref();
  }
  return guarded.stream;
}
