import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type MessagingNames, messagingNames } from "@otmetka/messaging";
import { ProjectionRunner } from "@otmetka/projections";
import { eventually, type TestServerUrls } from "@otmetka/testing";
import type pg from "pg";
import { openReportingDatabase } from "../db/open-database.js";
import { reportingProjection } from "../projections/projection.js";
import { ReadDb } from "../queries/read-db.js";
import { ensureSourceStreams } from "../streams.js";
import { type FeedEvent, publishFeed } from "./feed.js";
import { type SchoolFixture, schoolFixture } from "./school.js";

export interface Harness {
  pool: pg.Pool;
  db: ReadDb;
  nc: NatsConnection;
  names: MessagingNames;
  runner: ProjectionRunner;
  publish(events: FeedEvent[]): Promise<void>;
  /** Resolves once the read model has applied every event published so far. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

/** The reporting read model in the test process, on real PostgreSQL and NATS. */
export async function startHarness(env: TestServerUrls): Promise<Harness> {
  const pool = await openReportingDatabase(env.databaseUrl);
  const nc = await connect({ servers: env.natsUrl });
  const names = messagingNames(env.natsPrefix);
  await ensureSourceStreams(nc, names);
  const runner = await new ProjectionRunner({
    projection: reportingProjection,
    pool,
    nc,
    names,
  }).start();
  let published = 0;
  return {
    pool,
    db: new ReadDb(pool),
    nc,
    names,
    runner,
    async publish(events) {
      await publishFeed(nc, names, events);
      published += events.length;
    },
    async caughtUp() {
      // Polled every 20 ms (within the usual 20 s): tests call this after every step, and a
      // batch commits in a few ms, so the default 100 ms added most of each wait.
      await eventually(
        async () => {
          const { rows } = await pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM proj_reporting._inbox",
          );
          if (Number(rows[0]?.n) < published)
            throw new Error(`applied ${rows[0]?.n} of ${published}`);
        },
        20_000,
        20,
      );
    },
    async close() {
      await runner.stop().catch(() => {});
      await nc.close();
      await pool.end();
    },
  };
}

/** The harness with the fixture school of school.ts published and applied. */
export async function startHarnessWithSchool(
  env: TestServerUrls,
): Promise<{ h: Harness; f: SchoolFixture }> {
  const h = await startHarness(env);
  try {
    const f = schoolFixture();
    await h.publish(f.events);
    await h.caughtUp();
    return { h, f };
  } catch (err) {
    await h.close();
    throw err;
  }
}

export { eventually };
