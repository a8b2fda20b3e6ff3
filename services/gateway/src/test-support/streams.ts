/** Inner notice streams for the subscription wrappers' unit tests (while-*.unit.test.ts). */

export const deferred = <T = void>() => {
  let resolve: (v: T) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/**
 * A stream of notices 1, 2, 3… that records how it was ended. `waiting`: each notice waits
 * until `release` (or its return, which answers a waiting next done, as the hub's streams do).
 */
export function innerStream(
  o: { returnFails?: boolean; withThrow?: boolean; waiting?: boolean } = {},
) {
  const log: string[] = [];
  let n = 0;
  let pending: ReturnType<typeof deferred<IteratorResult<number>>> | undefined;
  const it: AsyncIterator<number> = {
    async next() {
      if (!o.waiting) return { value: ++n, done: false };
      pending = deferred<IteratorResult<number>>();
      return pending.promise;
    },
    async return() {
      log.push("return");
      pending?.resolve({ value: undefined, done: true });
      if (o.returnFails) throw new Error("return failed");
      return { value: undefined, done: true };
    },
  };
  if (o.withThrow)
    it.throw = async (err?: unknown) => {
      log.push(`throw ${(err as Error).message}`);
      throw err;
    };
  /** Hands the waiting next its notice. */
  const release = () => pending?.resolve({ value: ++n, done: false });
  return { it, log, release };
}

/** A logger that keeps its warnings' messages. */
export function warnings() {
  const seen: string[] = [];
  const logger = {
    warn: (_o: unknown, msg: string) => seen.push(msg),
  } as unknown as import("@otmetka/service-kit").Logger;
  return { seen, logger };
}
