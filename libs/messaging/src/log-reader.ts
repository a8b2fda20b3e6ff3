import { type Checkpoint, parseCheckpoint, type ReadAllPage } from "@otmetka/eventstore";

/** What the relay needs of the event store: its `readAll` (EventStore satisfies it). */
export interface LogReader {
  readAll(after: Checkpoint, limit: number): Promise<ReadAllPage>;
  /**
   * Calls the listener after each append of this process (EventStore.onAppended): the relay
   * then reads at once instead of polling every few milliseconds. Returns the unsubscribe.
   */
  onAppended?(listener: () => void): () => void;
}

/** Orders two checkpoints as `readAll` orders the log (transaction id, then position). */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  const x = parseCheckpoint(a);
  const y = parseCheckpoint(b);
  const tx = BigInt(x.transactionId) - BigInt(y.transactionId);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  return Math.sign(x.position - y.position);
}
