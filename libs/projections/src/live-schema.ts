import type pg from "pg";
import { ProjectionNeedsRebuild, ProjectionVersionSuperseded } from "./errors.js";
import { liveSchema } from "./names.js";
import type { Projection } from "./projection.js";
import {
  addSources,
  createReadModelSchema,
  ensureInboxAge,
  ensureSetAsideTable,
  readVersion,
  schemaExists,
} from "./runtime-tables.js";

/** Serializes schema creation between processes starting at the same time. */
const SETUP_LOCK = 0x50524f4a; // "PROJ"

/**
 * Makes sure the live read model exists in the projection's version: creates it (checkpoints
 * at 0) on first start; refuses to run against an older or newer version.
 */
export async function ensureLiveSchema(
  pool: pg.Pool,
  projection: Projection<any>,
): Promise<string> {
  const schema = liveSchema(projection);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [SETUP_LOCK, schema]);
    if (!(await schemaExists(client, schema))) {
      await createReadModelSchema(client, projection, schema, "live");
    } else {
      const version = await readVersion(client, schema);
      if (version < projection.version) {
        throw new ProjectionNeedsRebuild(projection.name, projection.version, version);
      }
      if (version > projection.version) {
        throw new ProjectionVersionSuperseded(projection.name, projection.version, version);
      }
      await addSources(client, projection, schema);
      await ensureInboxAge(client, schema);
      await ensureSetAsideTable(client, schema);
    }
    await client.query("COMMIT");
    return schema;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
