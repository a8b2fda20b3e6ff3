import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { monthOf } from "./months.js";
import type { AuditPartitions } from "./partitions.js";
import type { AuditRecord } from "./record.js";

export interface StoreResult {
  /** Records new to the database. */
  stored: number;
  /** Records already stored (a redelivery) or repeated within the batch. */
  duplicates: number;
  /** Records older than the retention: their month is (or is about to be) dropped. */
  expired: number;
}

const UNIQUE_VIOLATION = "23505";
const NO_PARTITION = "23514";
const DEADLOCK = "40P01";
/** COPY lines per chunk handed to the socket. */
const CHUNK_LINES = 2000;

// Fields are validated (no control characters); only the backslash needs escaping.
const esc = (s: string) => s.replaceAll("\\", "\\\\");

function* recordLines(records: AuditRecord[]): Generator<string> {
  let chunk = "";
  let n = 0;
  for (const r of records) {
    chunk += `${r.recordId}\t${r.occurredAt.toISOString()}\t${r.actorAccountId}\t${r.actorPersonId ?? "\\N"}\t${esc(r.actorRole)}\t${esc(r.operation)}\t${esc(r.correlationId)}\n`;
    if (++n % CHUNK_LINES === 0) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

function* pupilLines(records: AuditRecord[]): Generator<string> {
  let chunk = "";
  let n = 0;
  for (const r of records) {
    const tail = `\t${r.occurredAt.toISOString()}\t${r.recordId}\n`;
    for (const p of r.pupilIds) {
      chunk += p + tail;
      if (++n % CHUNK_LINES === 0) {
        yield chunk;
        chunk = "";
      }
    }
  }
  if (chunk) yield chunk;
}

const pgCode = (err: unknown) => (err as { code?: string } | undefined)?.code;

/**
 * Stores access records in bulk, idempotently by (record id, occurred_at). The common case —
 * a batch of new records — is two COPYs in one transaction. A unique violation means the batch
 * holds a record already stored (a redelivery): the transaction is rolled back, the stored ids
 * are looked up, and the rest is COPYed. Only if that races with another writer again does it
 * fall back to INSERT ... ON CONFLICT DO NOTHING. A caller that knows the batch repeats
 * records (`mayRepeat`: JetStream marked a message redelivered) skips the doomed first COPY.
 */
export class AuditStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly partitions: AuditPartitions,
  ) {}

  async store(
    batch: readonly AuditRecord[],
    now: Date,
    options: { mayRepeat?: boolean } = {},
  ): Promise<StoreResult> {
    const seen = new Set<string>();
    const records: AuditRecord[] = [];
    let expired = 0;
    for (const r of batch) {
      if (seen.has(r.recordId)) continue;
      seen.add(r.recordId);
      if (this.partitions.expired(r.occurredAt, now)) expired++;
      else records.push(r);
    }
    const repeated = batch.length - seen.size;
    // One key order for every writer: two writers of overlapping batches then wait on each
    // other's first common record instead of deadlocking.
    records.sort((a, b) => (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0));
    if (records.length === 0) return { stored: 0, duplicates: repeated, expired };
    await this.partitions.ensure(records.map((r) => monthOf(r.occurredAt)));
    const stored = await this.write(records, options.mayRepeat ?? false);
    return { stored, duplicates: repeated + records.length - stored, expired };
  }

  private async write(records: AuditRecord[], mayRepeat: boolean): Promise<number> {
    let fresh = records;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (mayRepeat || attempt > 0) fresh = await this.withoutStored(fresh);
      if (fresh.length === 0) return 0;
      try {
        return await this.copy(fresh);
      } catch (err) {
        if (pgCode(err) === NO_PARTITION) {
          // Another instance dropped or had not yet made a month this one thought it knew.
          this.partitions.forget();
          await this.partitions.ensure(fresh.map((r) => monthOf(r.occurredAt)));
        } else if (pgCode(err) !== UNIQUE_VIOLATION && pgCode(err) !== DEADLOCK) {
          throw err;
        }
      }
    }
    return this.insertIgnoringDuplicates(fresh);
  }

  /** The records whose (record id, occurred_at) is not stored yet. */
  private async withoutStored(records: AuditRecord[]): Promise<AuditRecord[]> {
    const { rows } = await this.pool.query<{ record_id: string }>(
      `SELECT r.record_id FROM unnest($1::uuid[], $2::timestamptz[]) AS k(record_id, occurred_at)
         JOIN access_audit.records r
           ON r.record_id = k.record_id AND r.occurred_at = k.occurred_at`,
      [records.map((r) => r.recordId), records.map((r) => r.occurredAt.toISOString())],
    );
    if (rows.length === 0) return records;
    const stored = new Set(rows.map((r) => r.record_id));
    return records.filter((r) => !stored.has(r.recordId));
  }

  private async copy(records: AuditRecord[]): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await pipeline(
        Readable.from(recordLines(records)),
        client.query(
          copyFrom(
            "COPY access_audit.records (record_id, occurred_at, actor_account_id, actor_person_id, actor_role, operation, correlation_id) FROM STDIN",
          ),
        ),
      );
      if (records.some((r) => r.pupilIds.length > 0)) {
        await pipeline(
          Readable.from(pupilLines(records)),
          client.query(
            copyFrom(
              "COPY access_audit.record_pupils (pupil_id, occurred_at, record_id) FROM STDIN",
            ),
          ),
        );
      }
      await client.query("COMMIT");
      return records.length;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async insertIgnoringDuplicates(records: AuditRecord[]): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const inserted = await client.query(
        `INSERT INTO access_audit.records
           (record_id, occurred_at, actor_account_id, actor_person_id, actor_role, operation, correlation_id)
         SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[])
         ON CONFLICT DO NOTHING`,
        [
          records.map((r) => r.recordId),
          records.map((r) => r.occurredAt.toISOString()),
          records.map((r) => r.actorAccountId),
          records.map((r) => r.actorPersonId),
          records.map((r) => r.actorRole),
          records.map((r) => r.operation),
          records.map((r) => r.correlationId),
        ],
      );
      const pupils = records.flatMap((r) =>
        r.pupilIds.map((p) => [p, r.occurredAt.toISOString(), r.recordId] as const),
      );
      if (pupils.length > 0) {
        await client.query(
          `INSERT INTO access_audit.record_pupils (pupil_id, occurred_at, record_id)
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[])
           ON CONFLICT DO NOTHING`,
          [pupils.map((p) => p[0]), pupils.map((p) => p[1]), pupils.map((p) => p[2])],
        );
      }
      await client.query("COMMIT");
      return inserted.rowCount ?? 0;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
