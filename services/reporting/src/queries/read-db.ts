import type pg from "pg";
import { REPORTING_SCHEMA } from "../projections/projection.js";

/** Reads the live read model (proj_reporting); `$S.` stands for its schema. */
export class ReadDb {
  constructor(readonly pool: pg.Pool) {}

  async rows<R>(text: string, params: unknown[]): Promise<R[]> {
    return (await this.pool.query(text.replaceAll("$S.", `"${REPORTING_SCHEMA}".`), params))
      .rows as R[];
  }
}
