import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { type AppendParams, toAppendParams } from "./append-params.js";
import { chunkAppends, copyTextField } from "./bulk-chunks.js";
import { AppendNotFirstWrite, WrongExpectedVersion } from "./errors.js";
import { newEventId } from "./event-id.js";
import type { StreamAppend, StreamVersion } from "./event-types.js";
import { describeExpectedVersion, satisfiesExpectedVersion } from "./expected-version.js";
import { parseInt8 } from "./int8.js";

export interface BulkAppendOptions {
  /** Events per transaction (default 5000): bounds how long readers wait on one import. */
  chunkEvents?: number;
  /** Called after each chunk commits, e.g. to record import progress. */
  onChunkCommitted?: (streams: StreamVersion[]) => void | Promise<void>;
}

export interface BulkAppendResult {
  chunks: number;
  events: number;
  streams: StreamVersion[];
}

export const COPY_SQL =
  "COPY eventstore.events (stream_id, stream_version, event_id, type, schema_version, data, metadata) FROM STDIN";
const ROWS_PER_WRITE = 256;

/**
 * The import path: per chunk, one transaction that locks its streams (sorted advisory locks,
 * before any write, as append does), checks expected versions, and COPYs the events straight
 * into the log with their versions computed here (a stream's version is its highest event). Earlier chunks
 * stay committed if a later one fails; `onChunkCommitted` tells the caller how far it got.
 */
export async function appendBulk(
  pool: pg.Pool,
  appends: readonly StreamAppend[],
  options: BulkAppendOptions = {},
): Promise<BulkAppendResult> {
  const chunks = chunkAppends(appends, options.chunkEvents ?? 5000);
  const result: BulkAppendResult = { chunks: 0, events: 0, streams: [] };
  for (const chunk of chunks) {
    const params = toAppendParams(chunk, { lazy: true });
    const streams = await appendChunk(pool, chunk, params);
    result.chunks += 1;
    result.events += params.eventStreams.length;
    result.streams.push(...streams);
    await options.onChunkCommitted?.(streams);
  }
  return result;
}

async function appendChunk(
  pool: pg.Pool,
  chunk: readonly StreamAppend[],
  p: AppendParams,
): Promise<StreamVersion[]> {
  const client = await pool.connect();
  let broken = false;
  try {
    // Queued on the connection together: one round trip for BEGIN and the locks.
    const begun = client.query("BEGIN");
    try {
      const locking = client.query<{ v: string[] }>({
        name: "eventstore_lock_streams",
        text: "SELECT eventstore.lock_streams($1::text[]) AS v",
        values: [p.streamIds],
      });
      // Both awaited together: a connection lost before BEGIN fails both (copy-append.ts).
      const [, locked] = await Promise.all([begun, locking]);
      const current = locked.rows[0]!.v.map((v) => parseInt8(v, "streams.version"));
      chunk.forEach((a, i) => {
        if (!satisfiesExpectedVersion(a.expected, current[i]!)) {
          throw new WrongExpectedVersion(
            a.streamId,
            describeExpectedVersion(a.expected),
            current[i]!,
          );
        }
      });
      const next = [...current];
      await pipeline(Readable.from(copyRows(chunk, p, next)), client.query(copyFrom(COPY_SQL)));
      await client.query("COMMIT");
      return p.streamIds.map((streamId, i) => ({ streamId, version: next[i]! }));
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      if ((err as { code?: string }).code === "OTE01") throw new AppendNotFirstWrite();
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

/**
 * COPY text lines, making each event's id, data and metadata as the stream pulls them (the
 * params are lazy); advances `versions` (per stream) as it assigns stream versions.
 */
export function* copyRows(
  chunk: readonly StreamAppend[],
  p: AppendParams,
  versions: number[],
): Generator<string> {
  let batch = "";
  let i = 0;
  for (let s = 0; s < chunk.length; s++) {
    const stream = copyTextField(p.streamIds[s]!);
    for (const e of chunk[s]!.events) {
      const eventId = e.eventId ?? newEventId();
      versions[s] = versions[s]! + 1;
      const data = copyTextField(JSON.stringify(e.data));
      const metadata = copyTextField(JSON.stringify(e.metadata ?? {}));
      batch += `${stream}\t${versions[s]}\t${eventId}\t${copyTextField(p.types[i]!)}\t${p.schemaVersions[i]}\t${data}\t${metadata}\n`;
      i += 1;
      if (i % ROWS_PER_WRITE === 0) {
        yield batch;
        batch = "";
      }
    }
  }
  if (batch) yield batch;
}
