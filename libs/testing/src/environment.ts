import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "./database.js";
import { uniqueNatsPrefix } from "./names.js";
import { deleteNatsPrefix } from "./nats.js";
import { resolveServers, type Servers } from "./servers.js";

export interface TestEnvironment {
  /** URL of this test file's own, freshly created database. */
  readonly databaseUrl: string;
  /** URL of the server's admin database, to create more databases when a test needs them. */
  readonly adminDatabaseUrl: string;
  readonly natsUrl: string;
  /** Prefix for every stream, subject and durable name this test file creates. */
  readonly natsPrefix: string;
  /** Environment variables a service started by the test should get. */
  readonly env: Record<string, string>;
  /** Another fresh database, dropped with the rest after the file's tests. */
  createDatabase(label: string): Promise<TestDatabase>;
}

/** What an in-process harness is started with: a test environment, or the same URLs. */
export type TestServerUrls = Pick<TestEnvironment, "databaseUrl" | "natsUrl" | "natsPrefix">;

export interface TestEnvironmentOptions {
  /** Label that ends the database name, to tell test databases apart on the server. */
  label?: string;
}

/**
 * Registers `beforeAll`/`afterAll` hooks giving the calling test file its own database and
 * NATS prefix, dropped afterwards. Read its fields inside tests or hooks, not at import time.
 */
export function useTestEnvironment(options: TestEnvironmentOptions = {}): TestEnvironment {
  let servers: Servers | undefined;
  let natsPrefix: string | undefined;
  const databases: TestDatabase[] = [];
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`test environment: ${what} is read before beforeAll ran`);
    return v;
  };

  beforeAll(async () => {
    servers = await resolveServers();
    natsPrefix = uniqueNatsPrefix();
    databases.push(await createTestDatabase(servers.databaseUrl, options.label));
  }, 120_000);

  afterAll(async () => {
    if (!servers) return;
    await Promise.all(databases.map((d) => d.drop()));
    if (natsPrefix) await deleteNatsPrefix(servers.natsUrl, natsPrefix);
    await servers.stop();
  }, 60_000);

  return {
    get databaseUrl() {
      return ready(databases[0], "databaseUrl").url;
    },
    get adminDatabaseUrl() {
      return ready(servers, "adminDatabaseUrl").databaseUrl;
    },
    get natsUrl() {
      return ready(servers, "natsUrl").natsUrl;
    },
    get natsPrefix() {
      return ready(natsPrefix, "natsPrefix");
    },
    get env() {
      return {
        DATABASE_URL: this.databaseUrl,
        NATS_URL: this.natsUrl,
        NATS_PREFIX: this.natsPrefix,
      };
    },
    async createDatabase(label: string) {
      const db = await createTestDatabase(ready(servers, "servers").databaseUrl, label);
      databases.push(db);
      return db;
    },
  };
}
