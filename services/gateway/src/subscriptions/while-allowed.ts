import { bearerMetadata, type Logger } from "@otmetka/service-kit";
import { createLoaders, lazyLoaders } from "../backends/loaders.js";
import type { GatewayContext } from "../context.js";
import { guardedStream } from "./guarded-stream.js";

/**
 * A subscription's notices while its field's policy still allows the caller: `check` runs once
 * before each notice is handed on (not per field of the event), and the first refusal ends the
 * stream with the policy's own error (FORBIDDEN naming the argument, as the query answers).
 * How it ends (`return`, `throw`, a refusal; no notice after that) is guarded-stream.ts's.
 */
export function whileAllowed<T>(
  inner: AsyncIterator<T>,
  check: () => Promise<unknown>,
  logger?: Logger,
): AsyncIterableIterator<T> {
  return guardedStream(inner, {
    check,
    onCloseError: (err) => logger?.warn({ err }, "subscription's notice stream failed to end"),
  }).stream;
}

/**
 * The context a policy runs in again for a notice: the subscription's, with loaders of its own,
 * so teaching assignments, homeroom teachers, guardian links and pupils' schools are asked anew
 * (the request's loaders keep their first answers as long as the subscription is open), and
 * with the gateway's date at the notice (`today` of the opening request would keep an ended
 * assignment's last day for as long as the subscription stays open). What
 * identity never changes is reused from the request: a school's municipality (placements.ts)
 * and the municipalities a scope was found in, so a dashboard of a school or wider is checked
 * against the token's grants alone, without a call.
 */
export function recheckContext(ctx: GatewayContext): () => GatewayContext {
  const { backends } = ctx;
  // Without backends (no gateway builds such a context) there is nothing fresher to ask.
  if (!backends) return () => ({ ...ctx, today: ctx.dateNow() });
  const md = bearerMetadata(ctx.caller.token);
  const opened = ctx.loaders;
  return () => {
    // The day of the notice: an assignment that ended yesterday no longer counts, also for a
    // subscription opened before midnight.
    const today = ctx.dateNow();
    return {
      ...ctx,
      today,
      loaders: lazyLoaders(() => ({
        ...createLoaders(backends, md, () => today),
        schools: opened.schools,
        municipalities: opened.municipalities,
      })),
    };
  };
}
