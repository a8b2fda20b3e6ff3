/*
 * pg 8 queues a statement sent while another runs on the same client, but deprecates that
 * (pg 9 drops it). Writes nobody waits for (ApplyContext.writeBehind, a pipelined rebuild)
 * send statements while others run: every statement of a batch goes through this chain
 * instead, one at a time, in the order of the calls, batch after batch on one client.
 */
const tails = new WeakMap<object, Promise<unknown>>();

/** `send` on `client`, started only once the client's earlier statements have settled. */
export function serialOn<A extends unknown[], R>(
  client: object,
  send: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return (...args) => {
    const run = (tails.get(client) ?? Promise.resolve()).then(() => send(...args));
    tails.set(
      client,
      run.catch(() => {}),
    );
    return run;
  };
}

/** Settles once every statement sent through `serialOn` on the client has. */
export const drained = (client: object): Promise<unknown> => tails.get(client) ?? Promise.resolve();
