import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTestDatabase, dropStaleTestDatabases } from "./database.js";
import { useTestEnvironment } from "./index.js";
import { deleteNatsPrefix } from "./nats.js";

const env = useTestEnvironment({ label: "harness" });

async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return r.rowCount === 1;
  } finally {
    await c.end();
  }
}

describe("test environment", () => {
  it("gives the file its own empty database", async () => {
    const c = new pg.Client({ connectionString: env.databaseUrl });
    await c.connect();
    try {
      const db = await c.query<{ d: string }>("SELECT current_database() AS d");
      expect(db.rows[0]?.d).toMatch(/^otmetka_t_\d{14}_\d+_[0-9a-f]{8}_harness$/);
      const tables = await c.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables.rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });

  it("gives two environments different databases and prefixes", async () => {
    const other = await env.createDatabase("other");
    expect(other.name).not.toBe(new URL(env.databaseUrl).pathname.slice(1));
    expect(env.natsPrefix).toMatch(/^t[0-9a-f]{12}$/);
    expect(env.env).toMatchObject({ DATABASE_URL: env.databaseUrl, NATS_PREFIX: env.natsPrefix });
  });

  it("drops a database with open connections", async () => {
    const db = await createTestDatabase(env.adminDatabaseUrl, "dropme");
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    holder.on("error", () => {});
    await db.drop();
    expect(await databaseExists(env.adminDatabaseUrl, db.name)).toBe(false);
    await holder.end().catch(() => {});
  });

  it("drops only stale harness databases", async () => {
    const c = new pg.Client({ connectionString: env.adminDatabaseUrl });
    await c.connect();
    const old = `otmetka_t_20000101000000_1_deadbeef_stale${process.pid}`;
    try {
      await c.query(`CREATE DATABASE "${old}"`);
    } finally {
      await c.end();
    }
    const dropped = await dropStaleTestDatabases(env.adminDatabaseUrl);
    expect(dropped).toContain(old);
    expect(await databaseExists(env.adminDatabaseUrl, old)).toBe(false);
    expect(
      await databaseExists(env.adminDatabaseUrl, new URL(env.databaseUrl).pathname.slice(1)),
    ).toBe(true);
  });

  it("deletes only the streams of its own NATS prefix", async () => {
    const nc = await connect({ servers: env.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const mine = `${env.natsPrefix}_DEMO`;
      const theirs = `${env.natsPrefix}x_DEMO`;
      await jsm.streams.add({ name: mine, subjects: [`${env.natsPrefix}.demo.>`] });
      await jsm.streams.add({ name: theirs, subjects: [`${env.natsPrefix}x.demo.>`] });
      const deleted = await deleteNatsPrefix(env.natsUrl, `${env.natsPrefix}_`);
      expect(deleted).toEqual([mine]);
      await expect(jsm.streams.info(theirs)).resolves.toBeTruthy();
      await jsm.streams.delete(theirs);
    } finally {
      await nc.close();
    }
  });
});
