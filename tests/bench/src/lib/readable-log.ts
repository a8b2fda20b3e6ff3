import { setTimeout as sleep } from "node:timers/promises";
import { type EventStore, type RecordedEvent, START } from "@otmetka/eventstore";

/**
 * Reads the log from the start, untimed, until `count` events have been seen, waiting where it
 * stops short: readAll shows only commits older than every open transaction on the server
 * (other sessions' and other runs' included), so a timed read of a freshly written log could
 * otherwise find it cut short. `onPage` gets each page's events.
 */
export async function waitUntilReadable(
  store: EventStore,
  count: number,
  onPage?: (events: readonly RecordedEvent[]) => void,
): Promise<void> {
  for (let checkpoint = START, seen = 0; seen < count; ) {
    const page = await store.readAll(checkpoint, 5000);
    onPage?.(page.events);
    seen += page.events.length;
    checkpoint = page.checkpoint;
    if (page.events.length === 0) await sleep(100);
  }
}
