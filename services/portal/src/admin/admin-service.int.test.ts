import * as grpc from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, nkeys } from "@nats-io/transport-node";
import {
  PortalAdminServiceClient,
  PortalAdminServiceService,
} from "@otmetka/proto/portal/v1/portal_admin_service";
import {
  createCallerVerifier,
  createLogger,
  type GrpcServer,
  promiseClient,
  startGrpcServer,
} from "@otmetka/service-kit";
import {
  grpcError,
  startTestGrpcApi,
  TEST_GRPC_SERVER_OPTIONS,
  type TestGrpcApi,
  useTestEnvironment,
} from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { migrate } from "../db/migrations.js";
import { ensurePortalStream, portalNames } from "../stream.js";
import { createPortalAdminService } from "./admin-service.js";

const env = useTestEnvironment({ label: "portal_admin" });
let pool: pg.Pool;
let nc: NatsConnection;
let api: TestGrpcApi<GrpcServer>;
let client: ReturnType<typeof promiseClient<PortalAdminServiceClient>>;
const names = () => portalNames(env.natsPrefix);
// Identity stand-in: which accounts hold which roles; what metadata it was asked with.
const accounts = new Map<string, string[]>([
  ["acc-sub", ["PORTAL_SUBSCRIBER"]],
  ["acc-teacher", ["TEACHER"]],
]);
const forwarded: string[] = [];
const redriven: string[] = [];
const bridgesStopped: string[] = [];

const as = (roles: string[]) => api.as(roles);
const code = async (p: Promise<unknown>) => (await grpcError(p)).code;

/** The webhook subscriber "hook" (the one with a bridge to re-drive through). */
const HOOK = {
  name: "hook",
  accountId: "acc-sub",
  transport: "webhook",
  nkey: "",
  webhookUrl: "https://example.org/hook",
};

/** Registers "hook". */
const registerHook = async (md: grpc.Metadata) => client.registerSubscriber(HOOK, md);

/** Registers the NATS subscriber "epgu" with a new NKey, from new messages on; its key pair. */
async function registerEpgu(md: grpc.Metadata) {
  const kp = nkeys.createUser();
  await client.registerSubscriber(
    {
      name: "epgu",
      accountId: "acc-sub",
      transport: "nats",
      nkey: kp.getPublicKey(),
      webhookUrl: "",
      start: { new: true },
    },
    md,
  );
  return kp;
}

/** Two dead letters of "hook" on one pupil's subject: a failed one and one parked behind it. */
const insertHookDeadLetters = () =>
  pool.query(
    `INSERT INTO portal.webhook_dead_letters
       (subscriber, stream_sequence, subject, body, reason, error, attempts)
     VALUES ('hook', 5, 'portal.v1.m.s.pupil.P1', '{}', 'failed', 'HTTP 500', 8),
            ('hook', 6, 'portal.v1.m.s.pupil.P1', '{}', 'parked', '', 0)`,
  );

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  await migrate(pool);
  nc = await connect({ servers: env.natsUrl });
  const jsm = await jetstreamManager(nc);
  await ensurePortalStream(jsm, names());
  const logger = createLogger({ service: "portal-test", level: "silent" });
  api = await startTestGrpcApi((issuer) =>
    startGrpcServer({
      ...TEST_GRPC_SERVER_OPTIONS,
      logger,
      services: [
        {
          definition: PortalAdminServiceService,
          implementation: createPortalAdminService(
            {
              pool,
              jsm,
              names: names(),
              async accountRoles(accountId, md) {
                forwarded.push(String(md.get("authorization")[0] ?? ""));
                return accounts.get(accountId) ?? null;
              },
              redrive(subscriber, subject) {
                if (subscriber !== "hook") return null;
                redriven.push(subject);
                return Promise.resolve(2);
              },
              async stopBridge(subscriber) {
                bridgesStopped.push(subscriber);
              },
            },
            createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
            logger,
          ),
        },
      ],
    }),
  );
  client = promiseClient(api.connect(PortalAdminServiceClient));
});

// Each test starts with no subscriber (their consumers and dead letters gone with them) and
// nothing recorded by the stand-ins, whichever tests ran before it; it registers what it needs.
beforeEach(async () => {
  const md = await as(["PLATFORM_ADMIN"]);
  for (const s of (await client.listSubscribers({}, md)).subscribers)
    await client.unregisterSubscriber({ name: s.name }, md);
  forwarded.length = 0;
  redriven.length = 0;
  bridgesStopped.length = 0;
});

afterAll(async () => {
  await api?.close();
  await nc?.close();
  await pool?.end();
});

describe("portal admin API", () => {
  it("refuses callers without a token (UNAUTHENTICATED) or without PLATFORM_ADMIN (PERMISSION_DENIED)", async () => {
    expect(await code(client.listSubscribers({}))).toBe(grpc.status.UNAUTHENTICATED);
    const teacher = await as(["TEACHER@school:S1"]);
    const subscriber = await as(["PORTAL_SUBSCRIBER"]);
    for (const md of [teacher, subscriber]) {
      expect(await code(client.listSubscribers({}, md))).toBe(grpc.status.PERMISSION_DENIED);
      expect(
        await code(
          client.registerSubscriber(
            {
              name: "x",
              accountId: "acc-sub",
              transport: "webhook",
              nkey: "",
              webhookUrl: "https://e.org",
            },
            md,
          ),
        ),
      ).toBe(grpc.status.PERMISSION_DENIED);
      expect(await code(client.replaySubscriber({ name: "x" }, md))).toBe(
        grpc.status.PERMISSION_DENIED,
      );
      expect(await code(client.listDeadLetters({ subscriber: "x" }, md))).toBe(
        grpc.status.PERMISSION_DENIED,
      );
      expect(await code(client.redriveDeadLetters({ subscriber: "x", subject: "s" }, md))).toBe(
        grpc.status.PERMISSION_DENIED,
      );
    }
  });

  it("registers a subscriber only for an account holding PORTAL_SUBSCRIBER, and lists them", async () => {
    const md = await as(["PLATFORM_ADMIN"]);
    const base = { transport: "webhook", nkey: "", webhookUrl: "https://example.org/hook" };
    const r = await registerHook(md);
    expect(r.durable).toBe(names().durable("hook"));
    expect(forwarded.at(-1)).toMatch(/^Bearer /);

    const notGranted = await grpcError(
      client.registerSubscriber({ ...base, name: "t", accountId: "acc-teacher" }, md),
    );
    expect(notGranted.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(notGranted.details).toMatch(/^account_id: .*PORTAL_SUBSCRIBER/);
    const unknown = await grpcError(
      client.registerSubscriber({ ...base, name: "u", accountId: "nobody" }, md),
    );
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    const badTransport = await grpcError(
      client.registerSubscriber({ ...base, transport: "ftp", name: "f", accountId: "acc-sub" }, md),
    );
    expect(badTransport.details).toMatch(/^transport:/);
    const badName = await grpcError(
      client.registerSubscriber({ ...base, name: "Bad Name", accountId: "acc-sub" }, md),
    );
    expect(badName.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badName.details).toMatch(/^subscriber:/);

    const kp = await registerEpgu(md);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(names().stream, names().durable("epgu"));
    expect(info.config.deliver_policy).toBe("new");

    const list = await client.listSubscribers({}, md);
    expect(list.subscribers.map((s) => [s.name, s.transport, s.accountId])).toEqual([
      ["epgu", "nats", "acc-sub"],
      ["hook", "webhook", "acc-sub"],
    ]);
    expect(list.subscribers[0]?.nkey).toBe(kp.getPublicKey());
    expect(list.subscribers[1]?.webhookUrl).toBe("https://example.org/hook");
  });

  it("replays a subscriber from a sequence or a time; bad positions and unknown subscribers refused", async () => {
    const md = await as(["PLATFORM_ADMIN"]);
    await registerEpgu(md);
    const jsm = await jetstreamManager(nc);
    const info = () => jsm.consumers.info(names().stream, names().durable("epgu"));

    await client.replaySubscriber({ name: "epgu", start: { sequence: "7" } }, md);
    expect((await info()).config.deliver_policy).toBe("by_start_sequence");
    expect((await info()).config.opt_start_seq).toBe(7);

    await client.replaySubscriber({ name: "epgu", start: { time: "2026-11-28T10:00:00Z" } }, md);
    expect((await info()).config.deliver_policy).toBe("by_start_time");
    expect(new Date((await info()).config.opt_start_time ?? "").toISOString()).toBe(
      "2026-11-28T10:00:00.000Z",
    );

    await client.replaySubscriber({ name: "epgu", start: { start: true } }, md);
    expect((await info()).config.deliver_policy).toBe("all");

    const badTime = await grpcError(
      client.replaySubscriber({ name: "epgu", start: { time: "yesterday" } }, md),
    );
    expect(badTime.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badTime.details).toMatch(/^start\.time:/);
    const badSeq = await grpcError(
      client.replaySubscriber({ name: "epgu", start: { sequence: "0" } }, md),
    );
    expect(badSeq.details).toMatch(/^start\.sequence:/);
    expect(await code(client.replaySubscriber({ name: "ghost" }, md))).toBe(grpc.status.NOT_FOUND);
  });

  it("lists a subscriber's dead letters and re-drives a subject through its bridge", async () => {
    const md = await as(["PLATFORM_ADMIN"]);
    await registerHook(md);
    await registerEpgu(md);
    await insertHookDeadLetters();
    const dl = await client.listDeadLetters({ subscriber: "hook" }, md);
    expect(dl.deadLetters.map((d) => [d.streamSequence, d.reason, d.attempts])).toEqual([
      ["5", "failed", 8],
      ["6", "parked", 0],
    ]);
    expect(dl.deadLetters[0]?.createdAt).toMatch(/^\d{4}-/);
    expect((await client.listDeadLetters({ subscriber: "epgu" }, md)).deadLetters).toEqual([]);

    const r = await client.redriveDeadLetters(
      { subscriber: "hook", subject: "portal.v1.m.s.pupil.P1" },
      md,
    );
    expect(r.redelivered).toBe(2);
    expect(redriven).toEqual(["portal.v1.m.s.pupil.P1"]);
    // A NATS subscriber has no bridge to re-drive through.
    expect(await code(client.redriveDeadLetters({ subscriber: "epgu", subject: "s" }, md))).toBe(
      grpc.status.FAILED_PRECONDITION,
    );
    const noSubject = await grpcError(
      client.redriveDeadLetters({ subscriber: "hook", subject: " " }, md),
    );
    expect(noSubject.details).toMatch(/^subject:/);
  });

  it("unregisters a subscriber: consumer, record, dead letters and bridge gone; a second time NOT_FOUND", async () => {
    const md = await as(["PLATFORM_ADMIN"]);
    const jsm = await jetstreamManager(nc);
    // Another subscriber, whose dead letters stay.
    await registerHook(md);
    await insertHookDeadLetters();
    await client.registerSubscriber(
      {
        name: "leaving",
        accountId: "acc-sub",
        transport: "webhook",
        nkey: "",
        webhookUrl: "https://example.org/leaving",
      },
      md,
    );
    await pool.query(
      `INSERT INTO portal.webhook_dead_letters
         (subscriber, stream_sequence, subject, body, reason, error, attempts)
       VALUES ('leaving', 7, 'portal.v1.m.s.pupil.P2', '{}', 'failed', 'HTTP 500', 8)`,
    );
    const others = (await client.listSubscribers({}, md)).subscribers.map((x) => x.name);
    expect(others).toContain("leaving");
    // Not for anyone but a platform admin.
    expect(
      await code(client.unregisterSubscriber({ name: "leaving" }, await as(["PORTAL_SUBSCRIBER"]))),
    ).toBe(grpc.status.PERMISSION_DENIED);

    expect(await client.unregisterSubscriber({ name: "leaving" }, md)).toEqual({
      deadLettersDeleted: 1,
    });
    expect((await client.listSubscribers({}, md)).subscribers.map((x) => x.name)).toEqual(
      others.filter((n) => n !== "leaving"),
    );
    await expect(jsm.consumers.info(names().stream, names().durable("leaving"))).rejects.toThrow();
    expect((await client.listDeadLetters({ subscriber: "hook" }, md)).deadLetters).toHaveLength(2);
    expect(bridgesStopped).toEqual(["leaving"]);
    expect(await code(client.unregisterSubscriber({ name: "leaving" }, md))).toBe(
      grpc.status.NOT_FOUND,
    );
    expect(await code(client.unregisterSubscriber({ name: "Bad Name" }, md))).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
  });
});
