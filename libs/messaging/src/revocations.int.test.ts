import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { InvalidMessagingArgument } from "./errors.js";
import { openRevocationsBucket, REVOCATION_TTL_MS } from "./kv-buckets.js";
import { messagingNames } from "./names.js";
import {
  revokeAccess,
  revokeSession,
  sessionRevocationKey,
  watchRevocations,
} from "./revocations.js";

const env = useTestEnvironment({ label: "messaging_revocations" });
let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
});

const ACCOUNT = "0b6f1f1e-4c8a-4a63-9a57-3f1c2d9e8a01";
const OTHER = "7d2c9b40-1e35-4f0a-8c6d-52a9e1f3b7c4";
const SESSION = "3e9a6c2f-8b14-4d7e-a5f0-6c1b9d2e4a73";
const OTHER_SESSION = "c4f8e2a1-5d37-4b9c-8e6a-0f2d7b3c9e15";
let run = 0;
const bucketNames = () => messagingNames(`${env.natsPrefix}_r${++run}`);

async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
  expect(check(), what).toBe(true);
}

it("the bucket keeps one value per account for the longest token lifetime", async () => {
  const names = bucketNames();
  await openRevocationsBucket(nc, names);
  const info = await (await jetstreamManager(nc)).streams.info(`KV_${names.revocationBucket}`);
  expect(names.revocationBucket).toBe(`${env.natsPrefix}_r${run}_access-revocations`);
  expect(info.config.max_age).toBe(REVOCATION_TTL_MS * 1_000_000);
  expect(REVOCATION_TTL_MS).toBeGreaterThanOrEqual(3_600_000);
  expect(info.config.max_msgs_per_subject).toBe(1);
});

it("revokeAccess keeps the latest revokedAt: a repeat or an older one writes nothing", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  expect(await revokeAccess(kv, ACCOUNT, { revokedAt: 2_000, reason: "disabled" })).toBe(true);
  const first = await kv.get(ACCOUNT);
  expect(first?.json()).toEqual({ revokedAt: 2_000, reason: "disabled" });
  expect(await revokeAccess(kv, ACCOUNT, { revokedAt: 2_000, reason: "disabled" })).toBe(false);
  expect(await revokeAccess(kv, ACCOUNT, { revokedAt: 1_000, reason: "deleted" })).toBe(false);
  expect((await kv.get(ACCOUNT))?.revision).toBe(first?.revision);
  expect(await revokeAccess(kv, ACCOUNT, { revokedAt: 3_000, reason: "roles_changed" })).toBe(true);
  expect((await kv.get(ACCOUNT))?.json()).toEqual({ revokedAt: 3_000, reason: "roles_changed" });
});

it("concurrent writers leave the maximum", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  const times = [5, 9, 1, 7, 3, 8, 2, 6, 4].map((t) => t * 1_000);
  await Promise.all(
    times.map((revokedAt) => revokeAccess(kv, ACCOUNT, { revokedAt, reason: "roles_changed" })),
  );
  expect((await kv.get(ACCOUNT))?.json<{ revokedAt: number }>().revokedAt).toBe(9_000);
});

it("refuses an account id that is not a KV key and a revokedAt that is not a time", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  for (const bad of ["", "a.b", "a b", "a*", "x".repeat(201)]) {
    await expect(
      revokeAccess(kv, bad, { revokedAt: 1_000, reason: "disabled" }),
    ).rejects.toMatchObject({ name: InvalidMessagingArgument.name, field: "accountId" });
  }
  await expect(
    revokeAccess(kv, ACCOUNT, { revokedAt: Number.NaN, reason: "disabled" }),
  ).rejects.toMatchObject({ field: "revokedAt" });
  expect(await kv.get(ACCOUNT)).toBeNull();
});

it("watchRevocations loads current entries before it resolves, then follows updates", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  await revokeAccess(kv, ACCOUNT, { revokedAt: 1_700_000_000_500, reason: "disabled" });
  const list = await watchRevocations(kv);
  try {
    expect(list.revokedAt(ACCOUNT)).toBe(1_700_000_000_500);
    expect(list.revokedAt(OTHER)).toBeUndefined();
    expect(list.revokedAt("not.a.key")).toBeUndefined();
    // iat in seconds: issued in or before the revocation's second is refused, later is not.
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_000 }))).toBe(true);
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_699_999_000 }))).toBe(true);
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_001 }))).toBe(false);
    expect(list.isRevoked(OTHER, () => ({ iat: 1_700_000_000 }))).toBe(false);
    // An account not on the list: its token's iat is not even read.
    expect(
      list.isRevoked(OTHER, () => {
        throw new Error("iat read for an account not on the list");
      }),
    ).toBe(false);

    await revokeAccess(kv, OTHER, { revokedAt: 1_700_000_100_000, reason: "roles_changed" });
    await until(() => list.revokedAt(OTHER) === 1_700_000_100_000, "new entry seen");
    await revokeAccess(kv, ACCOUNT, { revokedAt: 1_700_000_200_000, reason: "deleted" });
    await until(() => list.revokedAt(ACCOUNT) === 1_700_000_200_000, "update seen");
  } finally {
    list.stop();
  }
});

it("a session's entry refuses that session's tokens only, by the same iat rule", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  const session = { accountId: ACCOUNT, sessionId: SESSION };
  expect(await revokeSession(kv, session, { revokedAt: 1_700_000_000_500, reason: "logout" })).toBe(
    true,
  );
  // Its own key space: the account's key is untouched.
  expect(sessionRevocationKey(ACCOUNT, SESSION)).toBe(`session.${ACCOUNT}.${SESSION}`);
  expect((await kv.get(`session.${ACCOUNT}.${SESSION}`))?.json()).toEqual({
    revokedAt: 1_700_000_000_500,
    reason: "logout",
  });
  expect(await kv.get(ACCOUNT)).toBeNull();
  // Latest time kept, as for accounts.
  expect(await revokeSession(kv, session, { revokedAt: 1_000, reason: "logout" })).toBe(false);
  const list = await watchRevocations(kv);
  try {
    expect(list.sessionRevokedAt(ACCOUNT, SESSION)).toBe(1_700_000_000_500);
    expect(list.revokedAt(ACCOUNT)).toBeUndefined();
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_000, sid: SESSION }))).toBe(true);
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_001, sid: SESSION }))).toBe(false);
    // Another session of the account, a token without a session, another account's session.
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_000, sid: OTHER_SESSION }))).toBe(false);
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_000 }))).toBe(false);
    expect(
      list.isRevoked(OTHER, () => {
        throw new Error("claims read for an account with no entry");
      }),
    ).toBe(false);
    // The later of the account's and the session's revocation counts.
    await revokeAccess(kv, ACCOUNT, { revokedAt: 1_700_000_100_000, reason: "disabled" });
    await until(() => list.revokedAt(ACCOUNT) === 1_700_000_100_000, "account entry seen");
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_050, sid: SESSION }))).toBe(true);
    expect(list.isRevoked(ACCOUNT, () => ({ iat: 1_700_000_050, sid: OTHER_SESSION }))).toBe(true);
    // A deleted entry is gone from the list.
    await kv.delete(sessionRevocationKey(ACCOUNT, SESSION));
    await until(() => list.sessionRevokedAt(ACCOUNT, SESSION) === undefined, "delete seen");
  } finally {
    list.stop();
  }
});

it("refuses a session id that is not a KV key", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  for (const bad of ["", "a.b", "a b", "a>", "x".repeat(201)]) {
    await expect(
      revokeSession(
        kv,
        { accountId: ACCOUNT, sessionId: bad },
        { revokedAt: 1_000, reason: "logout" },
      ),
    ).rejects.toMatchObject({ name: InvalidMessagingArgument.name, field: "sessionId" });
  }
  expect((await kv.status()).values).toBe(0);
});

it("watchRevocations resolves on an empty bucket and sees the first put", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  const list = await watchRevocations(kv);
  try {
    expect(list.revokedAt(ACCOUNT)).toBeUndefined();
    await revokeAccess(kv, ACCOUNT, { revokedAt: 4_000, reason: "disabled" });
    await until(() => list.revokedAt(ACCOUNT) === 4_000, "first put seen");
  } finally {
    list.stop();
  }
});

it("an entry older than the bucket's TTL is dropped by the reader too", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  await revokeAccess(kv, ACCOUNT, { revokedAt: 4_000, reason: "disabled" });
  await revokeSession(
    kv,
    { accountId: OTHER, sessionId: SESSION },
    { revokedAt: 4_000, reason: "logout" },
  );
  let now = Date.now();
  const list = await watchRevocations(kv, { now: () => now });
  try {
    expect(list.revokedAt(ACCOUNT)).toBe(4_000);
    expect(list.sessionRevokedAt(OTHER, SESSION)).toBe(4_000);
    now += REVOCATION_TTL_MS + 1_000;
    expect(list.revokedAt(ACCOUNT)).toBeUndefined();
    expect(list.sessionRevokedAt(OTHER, SESSION)).toBeUndefined();
    expect(list.isRevoked(OTHER, () => ({ iat: 1, sid: SESSION }))).toBe(false);
  } finally {
    list.stop();
  }
});

it("watchRevocations keeps restarting a failed watch until a new one starts", async () => {
  const kv = await openRevocationsBucket(nc, bucketNames());
  // The first watch is ended from here; the next two cannot start (NATS still unreachable).
  const watchers: { stop(): void }[] = [];
  let calls = 0;
  const flaky = new Proxy(kv, {
    get(target, prop, receiver) {
      if (prop !== "watch") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<typeof kv.watch>) => {
        calls++;
        if (calls === 2 || calls === 3) throw new Error("no responders");
        const w = await target.watch(...args);
        watchers.push(w);
        return w;
      };
    },
  });
  const errors: unknown[] = [];
  const list = await watchRevocations(flaky, {
    restartDelayMs: 10,
    onError: (err) => errors.push(err),
  });
  try {
    watchers[0]?.stop();
    await until(() => calls >= 4, "watch started again after failed restarts");
    await revokeAccess(kv, ACCOUNT, { revokedAt: 5_000, reason: "disabled" });
    await until(() => list.revokedAt(ACCOUNT) === 5_000, "put after the restart seen");
    expect(errors.length).toBeGreaterThanOrEqual(3);
  } finally {
    list.stop();
  }
});
