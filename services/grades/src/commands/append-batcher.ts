import {
  type EventStore,
  type NewEvent,
  payloadHash,
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

/*
 * The command record in the same transaction as a batch's events, as appendCommand writes it
 * for one command (same table, same payload hash), so a retry of any of them is answered by
 * the event store's own lookup.
 */
const INSERT_COMMANDS = `INSERT INTO eventstore.commands (command_id, payload_hash, result)
  SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) ON CONFLICT (command_id) DO NOTHING`;

/**
 * Group commit for commands on different journals. While up to `maxInFlight` appends are
 * running, commands that become ready wait and then go together: one transaction that
 * appends every stream with its expected version (`appendMany`, atomic) and inserts every
 * command record. A quiet service appends each command alone (`appendCommand`), so a single
 * call waits for nothing. If anything in a batch conflicts or was already recorded, the
 * batch is rolled back and each command is appended on its own, which answers it exactly
 * (appended, replayed or conflict).
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
    if (batch.length > 1) {
      let together: boolean;
      try {
        together = await this.together(batch.map((b) => b.item));
      } catch (err) {
        for (const b of batch) b.reject(err);
        return;
      }
      if (together) {
        for (const b of batch) b.resolve({ kind: "appended" });
        return;
      }
    }
    await Promise.all(batch.map((b) => this.single(b.item).then(b.resolve, b.reject)));
  }

  /** One command alone: the event store's appendCommand. */
  async single(item: PendingAppend): Promise<AppendOutcome> {
    try {
      const o = await this.store.appendCommand(
        { commandId: item.commandId, payload: item.payload, result: item.result },
        [{ streamId: item.streamId, expected: item.expected, events: item.events }],
      );
      return o.replayed ? { kind: "replayed", result: o.result } : { kind: "appended" };
    } catch (err) {
      if (err instanceof WrongExpectedVersion) return { kind: "conflict" };
      throw err;
    }
  }

  /** All or nothing; false when one stream moved or one command id was already recorded. */
  private async together(items: PendingAppend[]): Promise<boolean> {
    const client = await this.store.pool.connect();
    try {
      await client.query("BEGIN");
      try {
        await this.store.appendMany(
          items.map((i) => ({ streamId: i.streamId, expected: i.expected, events: i.events })),
          { client },
        );
      } catch (err) {
        if (!(err instanceof WrongExpectedVersion)) throw err;
        await client.query("ROLLBACK");
        return false;
      }
      const r = await client.query(INSERT_COMMANDS, [
        items.map((i) => i.commandId),
        items.map((i) => payloadHash(i.payload)),
        items.map((i) => JSON.stringify(i.result ?? null)),
      ]);
      if (r.rowCount !== items.length) {
        await client.query("ROLLBACK");
        return false;
      }
      await client.query("COMMIT");
      return true;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
