import type pg from "pg";
import { type AppendParams, toAppendParams } from "./append-params.js";
import { InvalidEventStoreArgument } from "./errors.js";
import type { StreamAppend, StreamVersion } from "./event-types.js";
import { parseInt8 } from "./int8.js";
import { payloadHash } from "./payload-hash.js";

/** One command of a batch: its record and its appends, as appendCommand takes them. */
export interface CommandAppend {
  command: { commandId: string; payload: unknown; result: unknown };
  appends: readonly StreamAppend[];
}

const APPEND_COMMANDS_SQL =
  "SELECT eventstore.append_commands($1::text[], $2::bigint[], $3::int[], $4::uuid[], " +
  "$5::text[], $6::int[], $7::jsonb[], $8::jsonb[], $9::text[], $10::text[], $11::jsonb[]) AS r";

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

/**
 * Every command's appends and record in one statement (eventstore.append_commands, its own
 * transaction): nothing recorded yet and every stream at its expected version, then the
 * records, exactly as appendCommand stores one (same table, same payload hash, so a retry of
 * any of them is answered by it), and the events. Returns each command's stream versions, or
 * undefined when nothing was written because a stream was not at its expected version, a
 * command id was already recorded or an argument was refused: appending each command alone
 * then answers each exactly.
 */
export async function appendTogether(
  pool: pg.Pool,
  items: readonly CommandAppend[],
): Promise<StreamVersion[][] | undefined> {
  let p: AppendParams;
  try {
    p = toAppendParams(items.flatMap((i) => i.appends));
  } catch (err) {
    if (err instanceof InvalidEventStoreArgument) return undefined;
    throw err;
  }
  let r: { versions?: Array<number | string>; separately?: boolean };
  try {
    const { rows } = await pool.query<{ r: typeof r }>({
      name: "eventstore_append_commands",
      text: APPEND_COMMANDS_SQL,
      values: [
        p.streamIds,
        p.expected,
        p.eventStreams,
        p.eventIds,
        p.types,
        p.schemaVersions,
        p.data,
        p.metadata,
        items.map((i) => i.command.commandId),
        items.map((i) => payloadHash(i.command.payload)),
        items.map((i) => JSON.stringify(i.command.result ?? null)),
      ],
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
