import type { JetStreamManager } from "@nats-io/jetstream";
import { TimeoutError } from "@nats-io/transport-node";

/**
 * `jsm` whose JetStream answers get lost, as on a busy cluster: `lost` names, per call of
 * `<api>.<op>` in order, whether that call's request is sent ("sent": the server acts on it)
 * or not ("dropped") before it fails with nats.js's TimeoutError; later calls are real.
 * `whileLost` runs before each such TimeoutError (what others do while the answer is late).
 */
export function losingAnswers(
  jsm: JetStreamManager,
  api: "streams" | "consumers",
  lost: Record<string, ("sent" | "dropped")[]>,
  whileLost?: (op: string) => unknown,
) {
  const calls: Record<string, number> = {};
  const wrapped = new Proxy(jsm[api], {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const op = String(prop);
      return async (...args: unknown[]) => {
        calls[op] = (calls[op] ?? 0) + 1;
        const fate = lost[op]?.[calls[op] - 1];
        if (fate === "dropped") {
          await whileLost?.(op);
          throw new TimeoutError();
        }
        const answer = await value.apply(target, args);
        if (fate === "sent") {
          await whileLost?.(op);
          throw new TimeoutError();
        }
        return answer;
      };
    },
  });
  const losing = new Proxy(jsm, {
    get: (target, prop) => (prop === api ? wrapped : Reflect.get(target, prop, target)),
  });
  return { jsm: losing, calls };
}
