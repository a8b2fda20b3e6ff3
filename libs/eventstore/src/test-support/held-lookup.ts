import type { EventStore } from "../event-store.js";

/**
 * The store as a retry sees it when its first command-id lookup answers before the command's
 * first run commits and its decision comes after: `store` (the real one underneath) holds
 * after that first lookup until `release()`; `looked` settles once the lookup has answered.
 * Later lookups pass straight through.
 */
export function holdAfterFirstLookup(real: EventStore): {
  store: EventStore;
  looked: Promise<void>;
  release: () => void;
} {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let answered!: () => void;
  const looked = new Promise<void>((r) => {
    answered = r;
  });
  let lookups = 0;
  const store = Object.create(real) as EventStore;
  store.findCommand = async (commandId) => {
    const found = await real.findCommand(commandId);
    if (++lookups === 1) {
      answered();
      await held;
    }
    return found;
  };
  return { store, looked, release };
}
