import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { type PrivateNats, startPrivateNats } from "./private-nats.js";
import { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.js";

describe("private servers", () => {
  let nats: PrivateNats | undefined;
  let postgres: PrivatePostgres | undefined;
  afterAll(async () => {
    await nats?.dispose();
    await postgres?.dispose();
  });

  it("keeps JetStream data across a nats-server crash and restart", async () => {
    nats = await startPrivateNats();
    expect(nats.url).not.toBe("nats://127.0.0.1:4222");
    let nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "KEEP", subjects: ["keep.>"] });
    await jetstream(nc).publish("keep.one", "hello");
    await nc.close();

    await nats.kill();
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow();
    await nats.restart();

    nc = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc)).streams.info("KEEP");
    expect(info.state.messages).toBe(1);
    await nc.close();
  });

  it("keeps committed rows across a PostgreSQL crash and restart", async () => {
    postgres = await startPrivatePostgres();
    expect(postgres.port).not.toBe(5432);
    let c = new pg.Client({ connectionString: postgres.url });
    await c.connect();
    await c.query("CREATE TABLE t (v int)");
    await c.query("INSERT INTO t VALUES (42)");
    await c.end();

    await postgres.kill();
    await postgres.restart();

    c = new pg.Client({ connectionString: postgres.url });
    await c.connect();
    const r = await c.query<{ v: number }>("SELECT v FROM t");
    expect(r.rows).toEqual([{ v: 42 }]);
    await c.end();
  });
});
