import type { InProcess } from "./in-process.js";

/**
 * The in-process deps with the first read of one stream held until released: before the
 * read (a generation stalls after its plan, before it reads a class group's lessons), or
 * `after` it (a command stalls on what it read, before it decides and appends).
 */
export function stallReads(app: InProcess, streamId: string, o: { after?: boolean } = {}) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reachedGate = () => {};
  const reached = new Promise<void>((resolve) => {
    reachedGate = resolve;
  });
  let stalled = false;
  const store = new Proxy(app.store, {
    get(target, key) {
      if (key === "readStream")
        return async (...args: Parameters<typeof target.readStream>) => {
          if (args[0] !== streamId || stalled) return target.readStream(...args);
          stalled = true;
          const read = o.after ? await target.readStream(...args) : undefined;
          reachedGate();
          await gate;
          return read ?? target.readStream(...args);
        };
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { deps: { ...app.deps, store }, reached, release };
}
