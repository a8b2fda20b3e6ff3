/**
 * The ending mechanics whileAllowed and whileCallerValid share: a plain iterator, not an async
 * generator, since `return` must end a stream waiting for a notice. `check` runs before each
 * notice is handed on; its error ends the stream with that error. Once ended (`return`,
 * `throw`, a failed check, `fail`) it answers done, also to a `next` whose notice or check was
 * still on its way: no notice after the consumer let go.
 */
export interface GuardedStream<T> {
  stream: AsyncIterableIterator<T>;
  /** Ends the stream from outside (a timer): the next `next` throws `err`, later ones answer done. */
  fail(err: unknown): void;
}

export function guardedStream<T>(
  inner: AsyncIterator<T>,
  o: {
    check: () => unknown;
    /** Once, however the stream ends (a timer to clear). */
    onEnd?: () => void;
    /** The inner stream failed to end: worth a warning, never the error the stream ends with. */
    onCloseError?: (err: unknown) => void;
  },
): GuardedStream<T> {
  const none = Symbol("none");
  let ended = false;
  let failure: unknown = none;
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });
  const finish = () => {
    if (ended) return;
    ended = true;
    o.onEnd?.();
  };
  // The inner stream's own trouble ending must not hide why it ended (a refusal, an expiry, the
  // caller's throw): its return gives back the slot and the hub's listener either way.
  const close = async () => {
    try {
      await inner.return?.();
    } catch (err) {
      o.onCloseError?.(err);
    }
  };
  // What a `next` answers once ended: an outside failure once, then done.
  const afterEnd = (): IteratorResult<T> => {
    if (failure === none) return done();
    const err = failure;
    failure = none;
    throw err;
  };
  const stream: AsyncIterableIterator<T> = {
    async next() {
      if (ended) return afterEnd();
      const r = await inner.next();
      if (ended) return afterEnd();
      if (r.done) {
        finish();
        return r;
      }
      try {
        await o.check();
      } catch (err) {
        if (ended) return afterEnd();
        finish();
        await close();
        throw err;
      }
      return ended ? afterEnd() : r;
    },
    async return(value?: unknown) {
      finish();
      failure = none;
      return (await inner.return?.(value)) ?? done();
    },
    async throw(err?: unknown) {
      finish();
      failure = none;
      try {
        if (inner.throw) await inner.throw(err);
        else throw err;
        return done();
      } finally {
        await close();
      }
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return {
    stream,
    fail(err) {
      if (ended) return;
      failure = err;
      finish();
      void close();
    },
  };
}
