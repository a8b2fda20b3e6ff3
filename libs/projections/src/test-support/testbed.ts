import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type MessagingNames, messagingNames } from "@otmetka/messaging";
import { type TestEnvironment, useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

export interface Testbed {
  readonly env: TestEnvironment;
  readonly nc: NatsConnection;
  readonly pool: pg.Pool;
  /** The messaging names under this file's own NATS prefix. */
  readonly names: MessagingNames;
}

/**
 * A test file's own database and NATS prefix, with a NATS connection and a pool on them.
 * Call it before the file's own hooks: vitest runs after-hooks in reverse order
 * (the default `sequence.hooks: "stack"`), so a file's afterAll (stopping its runners, killing its
 * children) still has the connections it needs.
 */
export function useTestbed(options: { label: string; poolMax?: number }): Testbed {
  const env = useTestEnvironment({ label: options.label });
  let nc: NatsConnection | undefined;
  let pool: pg.Pool | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`testbed: ${what} is read before beforeAll ran`);
    return v;
  };

  beforeAll(async () => {
    nc = await connect({ servers: env.natsUrl });
    pool = new pg.Pool({ connectionString: env.databaseUrl, max: options.poolMax ?? 4 });
  });
  afterAll(async () => {
    await nc?.close();
    await pool?.end();
  });

  return {
    env,
    get nc() {
      return ready(nc, "nc");
    },
    get pool() {
      return ready(pool, "pool");
    },
    get names() {
      return messagingNames(env.natsPrefix);
    },
  };
}
