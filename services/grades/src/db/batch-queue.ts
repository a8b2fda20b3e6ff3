/** One submitted item and how to answer it. */
export interface Waiting<Item, Out> {
  item: Item;
  resolve(out: Out): void;
  reject(err: unknown): void;
}

/**
 * Groups work that concurrent calls hand in, so one statement serves many of them. Items
 * submitted during one turn of the event loop go out together, at its end (setImmediate):
 * the calls that one socket read of gRPC frames started reach here in the same turn, and
 * sending the first few of them alone (as soon as a slot was free) cost a statement each
 * when the service was busiest. While `maxInFlight` batches run, later items wait and go
 * as one batch when a slot frees. A lone call waits only for the end of its turn. Batches
 * hold at most `maxBatch` (16): 64 calls of one turn go as four statements side by side, so
 * PostgreSQL works on some while this process answers others; batches of 64 took ~10-30% less
 * CPU a mark but moved all calls through the stages in lockstep, and marks/s over raw
 * appends was lower in grades-cpu (0.32-0.39 against 0.40-0.57 in the same runs).
 * `write` answers every item of its batch; if it throws, the whole batch gets the error.
 */
export class BatchQueue<Item, Out> {
  private readonly pending: Waiting<Item, Out>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly write: (batch: Waiting<Item, Out>[]) => Promise<void>,
    private readonly maxInFlight = 4,
    private readonly maxBatch = 16,
  ) {}

  submit(item: Item): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.endOfTurn);
      }
    });
  }

  private readonly endOfTurn = () => {
    this.scheduled = false;
    this.pump();
  };

  private pump() {
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch)
        .catch((err: unknown) => {
          for (const b of batch) b.reject(err);
        })
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
