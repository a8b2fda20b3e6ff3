import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, nkeyAuthenticator, nkeys } from "@nats-io/transport-node";
import { DomainError } from "@otmetka/service-kit";
import { rejectionOf, startPrivateNats, useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../db/migrations.js";
import { ensurePortalStream, portalNames } from "../stream.js";
import { registerSubscriber, subscriberAuthorization } from "./registry.js";

const env = useTestEnvironment({ label: "portal_registry" });
let pool: pg.Pool;
let nc: NatsConnection;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  await migrate(pool);
  nc = await connect({ servers: env.natsUrl });
});

afterAll(async () => {
  await nc?.close();
  await pool?.end();
});

describe("subscriber registry", () => {
  it("registers subscribers with a backfill consumer and renders the server's authorization", async () => {
    const names = portalNames(env.natsPrefix);
    const jsm = await jetstreamManager(nc);
    await ensurePortalStream(jsm, names);
    const kp = nkeys.createUser();
    await registerSubscriber(pool, jsm, names, {
      name: "gosuslugi",
      accountId: "acc-1",
      transport: "nats",
      nkey: kp.getPublicKey(),
    });
    await registerSubscriber(pool, jsm, names, {
      name: "hook",
      accountId: "acc-2",
      transport: "webhook",
      webhookUrl: "https://example.org/hook",
    });
    const info = await jsm.consumers.info(names.stream, names.durable("gosuslugi"));
    expect(info.config.deliver_policy).toBe("last_per_subject");

    const again = await rejectionOf<DomainError>(
      registerSubscriber(pool, jsm, names, {
        name: "gosuslugi",
        accountId: "acc-1",
        transport: "webhook",
        webhookUrl: "https://x.org",
      }),
    );
    expect([again.kind, again.field]).toEqual(["failed_precondition", "subscriber"]);
    for (const [bad, field] of [
      [
        { name: "Bad Name", accountId: "a", transport: "nats", nkey: kp.getPublicKey() },
        "subscriber",
      ],
      [{ name: "x1", accountId: "a", transport: "nats", nkey: "SUAxxxx" }, "nkey"],
      [{ name: "x2", accountId: " ", transport: "nats", nkey: kp.getPublicKey() }, "account_id"],
      [{ name: "x3", accountId: "a", transport: "webhook", webhookUrl: "ftp://x" }, "webhook_url"],
    ] as const) {
      const err = await rejectionOf<DomainError>(registerSubscriber(pool, jsm, names, bad));
      expect(err).toBeInstanceOf(DomainError);
      expect(err.field).toBe(field);
    }

    // The rendered block works on a real server: the registered key gets in, others do not.
    const config = await subscriberAuthorization(pool, names, {
      user: "svc",
      password: "svc-password-123",
    });
    expect(config).toContain(kp.getPublicKey());
    expect(config).not.toContain("hook");
    const server = await startPrivateNats({ config });
    try {
      const sub = await connect({
        servers: server.url,
        authenticator: nkeyAuthenticator(kp.getSeed()),
      });
      await sub.close();
      await expect(
        connect({
          servers: server.url,
          authenticator: nkeyAuthenticator(nkeys.createUser().getSeed()),
        }),
      ).rejects.toThrow();
    } finally {
      await server.dispose();
    }
  });
});
