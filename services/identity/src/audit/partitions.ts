import type pg from "pg";
import { monthOf, monthOfPartition, monthStart, monthSuffix, oldestKeptMonth } from "./months.js";

/** (class, key) of the transaction-scoped advisory lock that serializes partition DDL. */
const PARTITION_LOCK: [number, number] = [0x41554454, 1];
const TABLES = ["records", "record_pupils"] as const;
/** Months made ahead of the current one, so a month's first records never wait for DDL. */
export const MONTHS_AHEAD = 2;

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
}

/**
 * Monthly partitions of the audit tables: made ahead (start-up and a timer), on demand for a
 * late record, and dropped whole once older than the retention — a DROP TABLE, not a DELETE,
 * so retention costs nothing per row and leaves no bloat.
 */
export class AuditPartitions {
  private readonly known = new Set<number>();

  constructor(
    private readonly pool: pg.Pool,
    readonly retentionMonths: number,
  ) {}

  /** Months (see months.ts) that have partitions. */
  async list(): Promise<number[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = 'access_audit' AND p.relname = 'records'`,
    );
    return rows
      .map((r) => monthOfPartition(r.name))
      .filter((m): m is number => m !== undefined)
      .sort((a, b) => a - b);
  }

  /** Makes the partitions of the given months where missing. */
  async ensure(months: Iterable<number>): Promise<string[]> {
    const missing = [...new Set(months)].filter((m) => !this.known.has(m));
    if (missing.length === 0) return [];
    const created: string[] = [];
    await this.inLock(async (client) => {
      for (const m of missing) {
        const from = monthStart(m).toISOString();
        const to = monthStart(m + 1).toISOString();
        for (const table of TABLES) {
          const name = `${table}_${monthSuffix(m)}`;
          const res = await client.query(
            `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'access_audit' AND c.relname = $1`,
            [name],
          );
          if (res.rowCount === 0) {
            await client.query(
              `CREATE TABLE access_audit.${name} PARTITION OF access_audit.${table}
                 FOR VALUES FROM ('${from}') TO ('${to}')`,
            );
            created.push(name);
          }
        }
      }
    });
    for (const m of missing) this.known.add(m);
    return created;
  }

  /** Forgets what it knows, after another instance may have dropped partitions. */
  forget(): void {
    this.known.clear();
  }

  /** Whether a record of `occurredAt` is older than the retention at `now` (never stored). */
  expired(occurredAt: Date, now: Date): boolean {
    return monthOf(occurredAt) < oldestKeptMonth(now, this.retentionMonths);
  }

  /** Start-up and timer work: partitions ahead, and old months dropped. */
  async maintain(now: Date): Promise<MaintenanceResult> {
    const current = monthOf(now);
    const created = await this.ensure(
      Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => current + i),
    );
    const oldest = oldestKeptMonth(now, this.retentionMonths);
    const old = (await this.list()).filter((m) => m < oldest);
    const dropped: string[] = [];
    if (old.length > 0) {
      await this.inLock(async (client) => {
        for (const m of old) {
          for (const table of TABLES) {
            const name = `${table}_${monthSuffix(m)}`;
            await client.query(`DROP TABLE IF EXISTS access_audit.${name}`);
            dropped.push(name);
          }
          this.known.delete(m);
        }
      });
    }
    return { created, dropped };
  }

  private async inLock(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1, $2)", PARTITION_LOCK);
      await work(client);
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
