import { useTestEnvironment } from "@otmetka/testing";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrateEventStore } from "./migrations/index.js";
import { openServiceDatabase } from "./service-database.js";

const env = useTestEnvironment({ label: "svcdb" });
const created: string[] = [];

afterAll(async () => {
  const admin = new pg.Client({ connectionString: env.adminDatabaseUrl });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe("openServiceDatabase", () => {
  it("creates a missing database, runs the migrations, and is idempotent across instances", async () => {
    const name = `${new URL(env.databaseUrl).pathname.slice(1)}_fresh`.slice(0, 63);
    created.push(name);
    const url = new URL(env.databaseUrl);
    url.pathname = `/${name}`;
    const migrate = async (db: Parameters<typeof migrateEventStore>[0]) => {
      await migrateEventStore(db);
      await sql`CREATE TABLE IF NOT EXISTS own_table (id int)`.execute(db);
    };
    const [a, b] = await Promise.all([
      openServiceDatabase({ databaseUrl: url.toString(), migrate }),
      openServiceDatabase({ databaseUrl: url.toString(), migrate }),
    ]);
    await a.append("s-1", "no_stream", [{ type: "Created", data: {} }]);
    expect(await b.streamVersion("s-1")).toBe(1);
    await Promise.all([a.close(), b.close()]);
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    const r = await c.query("SELECT to_regclass('public.own_table') AS t");
    expect(r.rows[0].t).toBe("own_table");
    await c.end();
  });
});
