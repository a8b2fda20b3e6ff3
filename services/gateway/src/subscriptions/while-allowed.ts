import { bearerMetadata } from "@otmetka/service-kit";
import { createLoaders, lazyLoaders } from "../backends/loaders.js";
import type { GatewayContext } from "../context.js";

/**
 * A subscription's notices while its field's policy still allows the caller: `check` runs once
 * before each notice is handed on (not per field of the event), and the first refusal ends the
 * stream with the policy's own error (FORBIDDEN naming the argument, as the query answers).
 * A plain iterator like whileCallerValid: `return` must end a stream waiting for a notice.
 * Once ended (`return`, `throw`, a refusal) it answers done, also to a `next` whose check was
 * still running: no notice after the consumer let go.
 */
export function whileAllowed<T>(
  inner: AsyncIterator<T>,
  check: () => Promise<unknown>,
): AsyncIterableIterator<T> {
  let ended = false;
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  // The inner stream's own trouble ending must not hide why it ended (a refusal, the caller's
  // throw): the slot and the hub's listener are given back by its return either way.
  const end = async (value?: unknown) => {
    ended = true;
    try {
      await inner.return?.(value);
    } catch {}
  };
  const it: AsyncIterableIterator<T> = {
    async next() {
      if (ended) return done();
      const r = await inner.next();
      if (r.done || ended) return ended ? done() : r;
      try {
        await check();
      } catch (err) {
        if (ended) return done();
        await end();
        throw err;
      }
      return ended ? done() : r;
    },
    async return(value?: unknown) {
      ended = true;
      return (await inner.return?.(value)) ?? done();
    },
    async throw(err?: unknown) {
      ended = true;
      try {
        if (inner.throw) await inner.throw(err);
        else throw err;
        return done();
      } finally {
        await end();
      }
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
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
