import type pg from "pg";
import { InvalidEventStoreArgument, WrongExpectedVersion } from "./errors.js";
import type { StreamAppend, StreamVersion } from "./event-types.js";
import { payloadHash } from "./payload-hash.js";

/** One command of a batch: its record and its appends, as appendCommand takes them. */
export interface CommandAppend {
  command: { commandId: string; payload: unknown; result: unknown };
  appends: readonly StreamAppend[];
}

const INSERT_COMMANDS = `INSERT INTO eventstore.commands (command_id, payload_hash, result)
  SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) ON CONFLICT (command_id) DO NOTHING`;

/** Whether a batch can go as one transaction: no stream and no command id twice, ids given. */
export function separable(items: readonly CommandAppend[]): boolean {
  const streams = new Set<string>();
  const ids = new Set<string>();
  for (const i of items) {
    const id = i.command.commandId;
    if (typeof id !== "string" || id.length === 0 || ids.has(id)) return false;
    ids.add(id);
    for (const a of i.appends) {
      if (streams.has(a.streamId)) return false;
      streams.add(a.streamId);
    }
  }
  return true;
}

/**
 * Every command's appends and record in one transaction: the appends first (append_events
 * must be the transaction's first write), then the records, exactly as appendCommand stores
 * one (same table, same payload hash, so a retry of any of them is answered by it). Returns
 * each command's stream versions, or undefined when nothing was written because a stream was
 * not at its expected version, a command id was already recorded or an argument was refused:
 * appending each command alone then answers each exactly.
 */
export async function appendTogether(
  pool: pg.Pool,
  appendMany: (
    appends: readonly StreamAppend[],
    options: { client: pg.PoolClient },
  ) => Promise<StreamVersion[]>,
  items: readonly CommandAppend[],
): Promise<StreamVersion[][] | undefined> {
  const client = await pool.connect();
  let broken = false;
  const rollback = () =>
    client.query("ROLLBACK").catch(() => {
      broken = true;
    });
  try {
    await client.query("BEGIN");
    try {
      const versions = await appendMany(
        items.flatMap((i) => i.appends),
        { client },
      );
      const r = await client.query(INSERT_COMMANDS, [
        items.map((i) => i.command.commandId),
        items.map((i) => payloadHash(i.command.payload)),
        items.map((i) => JSON.stringify(i.command.result ?? null)),
      ]);
      if (r.rowCount !== items.length) {
        await rollback();
        return undefined;
      }
      await client.query("COMMIT");
      const out: StreamVersion[][] = [];
      let next = 0;
      for (const i of items) {
        out.push(versions.slice(next, next + i.appends.length));
        next += i.appends.length;
      }
      return out;
    } catch (err) {
      await rollback();
      if (err instanceof WrongExpectedVersion || err instanceof InvalidEventStoreArgument)
        return undefined;
      throw err;
    }
  } finally {
    client.release(broken);
  }
}
