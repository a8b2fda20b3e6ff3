import type pg from "pg";
import { type AppendParams, toAppendParams } from "./append-params.js";
import { InvalidEventStoreArgument } from "./errors.js";
import { newEventId } from "./event-id.js";
import type { StreamAppend, StreamVersion } from "./event-types.js";
import { parseInt8 } from "./int8.js";
import { inOwnTransaction } from "./own-transaction.js";
import { payloadHash } from "./payload-hash.js";

/** One command of a batch: its record and its appends, as appendCommand takes them. */
export interface CommandAppend {
  command: { commandId: string; payload: unknown; result: unknown };
  appends: readonly StreamAppend[];
}

const APPEND_COMMANDS_SQL = "SELECT eventstore.append_commands_json($1::jsonb) AS r";

/** Whether a batch can go as one transaction: no stream and no command id twice, ids given. */
export function batchable(items: readonly CommandAppend[]): boolean {
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

/** The batch as append_commands_json takes it (see its migration), in one JSON text. */
function batchDocument(items: readonly CommandAppend[], p: AppendParams): string {
  const events: object[] = [];
  let k = 0;
  for (const i of items) {
    for (const a of i.appends) {
      for (const e of a.events) {
        events.push({
          s: p.eventStreams[k],
          id: e.eventId ?? newEventId(),
          type: p.types[k],
          v: p.schemaVersions[k],
          data: e.data,
          metadata: e.metadata ?? {},
        });
        k++;
      }
    }
  }
  return JSON.stringify({
    streams: p.streamIds.map((id, n) => ({ id, expected: p.expected[n] })),
    events,
    commands: items.map((i) => ({
      id: i.command.commandId,
      hash: payloadHash(i.command.payload),
      result: i.command.result ?? null,
    })),
  });
}

/**
 * Every command's appends and record in one statement (eventstore.append_commands_json, in
 * its own transaction on the pool, or in the caller's on a client; the batch as one JSON document): every stream at its expected version,
 * then the records, exactly as appendCommand stores one (same table, same payload hash, so a
 * retry of any of them is answered by it; an id already recorded fails the insert), and the
 * events. Returns each command's stream versions, or
 * undefined when nothing was written because a stream was not at its expected version, a
 * command id was already recorded or an argument was refused: appending each command alone
 * then answers each exactly.
 */
export async function appendTogether(
  db: pg.Pool | pg.PoolClient,
  items: readonly CommandAppend[],
): Promise<StreamVersion[][] | undefined> {
  let p: AppendParams;
  try {
    // Validated and laid out; ids, data and metadata go into the document below.
    p = toAppendParams(
      items.flatMap((i) => i.appends),
      { lazy: true },
    );
  } catch (err) {
    if (err instanceof InvalidEventStoreArgument) return undefined;
    throw err;
  }
  let r: { versions?: Array<number | string>; separately?: boolean };
  try {
    const { rows } = await db.query<{ r: typeof r }>({
      name: "eventstore_append_commands_json",
      text: APPEND_COMMANDS_SQL,
      values: [batchDocument(items, p)],
    });
    r = rows[0]!.r;
  } catch (err) {
    if ((err as { code?: string }).code === "OTE02") return undefined;
    throw err;
  }
  if (r.separately || !r.versions) return undefined;
  const versions = r.versions.map((v, i) => ({
    streamId: p.streamIds[i]!,
    version: parseInt8(v, "stream version"),
  }));
  const out: StreamVersion[][] = [];
  let next = 0;
  for (const i of items) {
    out.push(versions.slice(next, next + i.appends.length));
    next += i.appends.length;
  }
  return out;
}

/** More writes with a batch: the indexes of the commands the transaction appended. */
export type BatchAlsoWrite = (client: pg.PoolClient, appended: readonly number[]) => Promise<void>;

/** Carries alsoWrite's error out of the transaction it rolled back. */
class AlsoWriteFailed {
  constructor(readonly cause: unknown) {}
}

/**
 * appendTogether with `alsoWrite(client, every index)` after the statement, in one
 * transaction (BEGIN, the statement, alsoWrite, COMMIT). Undefined as appendTogether, and
 * also when alsoWrite threw: the batch was rolled back, nothing of it is written, and each
 * command appended alone gets the answer (and the extra write) it would have got alone.
 */
export async function appendTogetherWith(
  pool: pg.Pool,
  items: readonly CommandAppend[],
  alsoWrite: BatchAlsoWrite,
): Promise<StreamVersion[][] | undefined> {
  try {
    return await inOwnTransaction(pool, async (client) => {
      const together = await appendTogether(client, items);
      if (together) {
        await alsoWrite(
          client,
          items.map((_, k) => k),
        ).catch((err: unknown) => {
          throw new AlsoWriteFailed(err);
        });
      }
      return together;
    });
  } catch (err) {
    if (err instanceof AlsoWriteFailed) return undefined;
    throw err;
  }
}
