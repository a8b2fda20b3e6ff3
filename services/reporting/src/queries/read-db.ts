import type pg from "pg";
import { REPORTING_SCHEMA } from "../projections/projection.js";

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 50_000;

/** Reads the live read model (proj_reporting); `$S.` stands for its schema. */
export class ReadDb {
  private readonly cache = new Map<string, { at: number; value: unknown }>();

  constructor(readonly pool: pg.Pool) {}

  async rows<R>(text: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query(text.replaceAll("$S.", `"${REPORTING_SCHEMA}".`), params))
      .rows as R[];
  }

  /**
   * A named (prepared) statement: parsed and planned once per connection, so a hot query
   * (the dashboard) pays neither on each call.
   */
  async prepared<R>(name: string, text: string, params: unknown[]): Promise<R[]> {
    const sql = text.replaceAll("$S.", `"${REPORTING_SCHEMA}".`);
    return (await this.pool.query({ name, text: sql, values: params })).rows as R[];
  }

  /**
   * Rows that change rarely (a class group's school, a school's terms), kept a minute: a
   * dashboard then costs one round trip. Empty answers are not kept (the fact may arrive).
   */
  async cachedRows<R>(text: string, params: unknown[]): Promise<R[]> {
    const key = `${text}\u0000${JSON.stringify(params)}`;
    const hit = this.cache.get(key);
    if (hit && performance.now() - hit.at < CACHE_TTL_MS) return hit.value as R[];
    const rows = await this.rows<R>(text, params);
    if (rows.length > 0) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, { at: performance.now(), value: rows });
    }
    return rows;
  }
}
