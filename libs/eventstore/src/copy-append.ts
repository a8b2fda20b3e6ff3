import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { toAppendParams } from "./append-params.js";
import { COPY_SQL, copyRows } from "./bulk-append.js";
import { AppendNotFirstWrite } from "./errors.js";
import type { StreamAppend } from "./event-types.js";
import { satisfiesExpectedVersion } from "./expected-version.js";
import { parseInt8 } from "./int8.js";

/** What eventstore.append_events answers; the COPY path answers the same. */
export interface AppendResultJson {
  versions?: Array<number | string>;
  conflict?: { index: number; actual: number | string };
  command?: { hash: string; result: unknown };
}

/** From this many events, a write-path append COPYs its events instead of passing arrays. */
export const COPY_APPEND_MIN_EVENTS = 256;

/**
 * append_events' rules in one transaction of its own, with the events COPYed: the streams'
 * locks first (sorted, before any write), a known command replayed, expected versions
 * checked, then the command record (the first write), then COPY. For a school year of lessons
 * (bench:curriculum, same loaded machine) generation went from 6,257 to 13,420 events/s.
 */
export async function copyAppend(
  pool: pg.Pool,
  appends: readonly StreamAppend[],
  command: { commandId: string; hash: string; result: unknown } | undefined,
  /** More writes after the events, before COMMIT (appendCommand's alsoWrite). */
  alsoWrite?: (client: pg.PoolClient) => Promise<void>,
): Promise<AppendResultJson> {
  const p = toAppendParams(appends, { lazy: true });
  const client = await pool.connect();
  let broken = false;
  const rollback = () =>
    client.query("ROLLBACK").catch(() => {
      broken = true;
    });
  try {
    const begun = client.query("BEGIN");
    // A stream given no event (a guard) is locked shared (migration 008).
    const written = appends.flatMap((a, i) => (a.events.length > 0 ? [i + 1] : []));
    const locking = client.query<{ v: string[] }>({
      name: "eventstore_lock_written_streams",
      text: "SELECT eventstore.lock_streams($1::text[], $2::int[]) AS v",
      values: [p.streamIds, written],
    });
    try {
      // Both awaited together: a connection lost before BEGIN fails both, and the locks'
      // failure unheard would be an unhandled rejection (runService exits on it).
      const [, locked] = await Promise.all([begun, locking]);
      const current = locked.rows[0]!.v.map((v) => parseInt8(v, "stream version"));
      const stored = command ? await storedCommand(client, command.commandId) : undefined;
      if (stored) {
        await rollback();
        return { command: stored };
      }
      const conflict = appends.findIndex(
        (a, i) => !satisfiesExpectedVersion(a.expected, current[i]!),
      );
      if (conflict >= 0) {
        await rollback();
        return { conflict: { index: conflict, actual: current[conflict]! } };
      }
      if (command) {
        const claimed = await client.query({
          name: "eventstore_copy_append_command",
          text:
            "INSERT INTO eventstore.commands (command_id, payload_hash, result) VALUES ($1, $2, $3) " +
            "ON CONFLICT (command_id) DO NOTHING",
          values: [command.commandId, command.hash, JSON.stringify(command.result ?? null)],
        });
        if (claimed.rowCount === 0) {
          // A concurrent run of the same command (on other streams) committed first.
          const winner = await storedCommand(client, command.commandId);
          await rollback();
          return { command: winner! };
        }
      }
      const next = [...current];
      await pipeline(Readable.from(copyRows(appends, p, next)), client.query(copyFrom(COPY_SQL)));
      if (alsoWrite) await alsoWrite(client);
      await client.query("COMMIT");
      return { versions: next };
    } catch (err) {
      await rollback();
      if ((err as { code?: string }).code === "OTE01") throw new AppendNotFirstWrite();
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

async function storedCommand(client: pg.PoolClient, commandId: string) {
  const { rows } = await client.query<{ payload_hash: string; result: unknown }>({
    name: "eventstore_copy_append_stored_command",
    text: "SELECT payload_hash, result FROM eventstore.commands WHERE command_id = $1",
    values: [commandId],
  });
  return rows[0] ? { hash: rows[0].payload_hash, result: rows[0].result } : undefined;
}
