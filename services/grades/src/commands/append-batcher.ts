import {
  type CommandAppendOutcome,
  type EventStore,
  type NewEvent,
  WrongExpectedVersion,
} from "@otmetka/eventstore";

/** One decided command, ready to append with its expected version and command record. */
export interface PendingAppend {
  commandId: string;
  payload: unknown;
  result: unknown;
  streamId: string;
  expected: number;
  events: NewEvent[];
}

export type AppendOutcome =
  | { kind: "appended" }
  | { kind: "replayed"; result: unknown }
  | { kind: "conflict" };

interface Waiting {
  item: PendingAppend;
  resolve(o: AppendOutcome): void;
  reject(err: unknown): void;
}

/**
 * Group commit for commands on different journals. While up to `maxInFlight` appends are
 * running, commands that become ready wait and then go together through the event store's
 * `appendCommands` (one transaction and one commit for the batch; if anything in it conflicts
 * or was already recorded, each command is appended on its own and answered exactly). A quiet
 * service appends each command alone, so a single call waits for nothing.
 */
export class AppendBatcher {
  private readonly pending: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly store: EventStore,
    private readonly maxInFlight = 4,
    private readonly maxBatch = 64,
  ) {}

  submit(item: PendingAppend): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump() {
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    let settled: PromiseSettledResult<CommandAppendOutcome>[];
    try {
      settled = await this.store.appendCommands(
        batch.map(({ item }) => ({
          command: { commandId: item.commandId, payload: item.payload, result: item.result },
          appends: [{ streamId: item.streamId, expected: item.expected, events: item.events }],
        })),
      );
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    settled.forEach((s, i) => {
      const b = batch[i]!;
      if (s.status === "fulfilled") b.resolve(outcomeOf(s.value));
      else if (s.reason instanceof WrongExpectedVersion) b.resolve({ kind: "conflict" });
      else b.reject(s.reason);
    });
  }
}

const outcomeOf = (o: CommandAppendOutcome): AppendOutcome =>
  o.replayed ? { kind: "replayed", result: o.result } : { kind: "appended" };
