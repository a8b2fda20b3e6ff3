import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  ensureStream,
  type MessagingNames,
  messagingNames,
  OutboxRelay,
  type Revocation,
} from "@otmetka/messaging";
import { createLogger } from "@otmetka/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeIdentityEvent } from "../api/event-routing.js";
import { disableAccount } from "../commands/account-status.js";
import { grantRole, revokeRole } from "../commands/grants.js";
import { assignStaffToSchool, unassignStaffFromSchool } from "../commands/guardians.js";
import { erasePerson } from "../commands/people.js";
import { PersonKind } from "../domain/person.js";
import { streamIds } from "../domain/stream-ids.js";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { cmd, givenPerson, givenSchool } from "../test-support/in-process.js";
import { changePassword, createAccount } from "./accounts.js";
import {
  REVOCATION_LEEWAY_MS,
  REVOCATIONS_DURABLE,
  type RevocationWriter,
  startRevocationWriter,
} from "./revocations.js";

const h = useAuthHarness("identity_revocations");
const logger = createLogger({ service: "identity-test", level: "silent" });
let names: MessagingNames;
let relay: OutboxRelay;
let writer: RevocationWriter;

beforeAll(async () => {
  names = messagingNames(h.identity.env.natsPrefix);
  const stream = names.contextStream("identity");
  await ensureStream(await jetstreamManager(h.nc), stream);
  relay = new OutboxRelay({
    nc: h.nc,
    log: h.identity.deps.store,
    stream: stream.name,
    databaseUrl: h.identity.env.databaseUrl,
    subjectRoot: names.eventRoot("identity"),
    source: "identity",
    route: routeIdentityEvent,
  }).start();
  writer = await startRevocationWriter({ nc: h.nc, names, logger, bucket: h.revocations });
}, 60_000);
afterAll(async () => {
  await writer?.stop();
  await relay?.stop();
});

const teacher = (schoolId: string) => ({ role: "TEACHER", scopeKind: "school", scopeId: schoolId });

async function givenAccount(personId = "") {
  const { accountId } = await createAccount(h.auth, {
    username: `rev.${randomUUID().slice(0, 8)}`,
    password: "a long enough password 1",
    personId,
  });
  return accountId;
}

async function entryOf(accountId: string): Promise<Revocation | undefined> {
  const e = await h.revocations.get(accountId);
  return e && e.operation === "PUT" ? e.json<Revocation>() : undefined;
}

/** Waits (at most 10 s) for the account's entry; how long it took. */
async function untilEntry(accountId: string): Promise<{ entry: Revocation; ms: number }> {
  const start = performance.now();
  for (let i = 0; i < 1000; i++) {
    const entry = await entryOf(accountId);
    if (entry) return { entry, ms: performance.now() - start };
    await sleep(10);
  }
  throw new Error(`no revocation entry for ${accountId}`);
}

/**
 * Milliseconds of the recorded time of the account stream's last event of `type` (its
 * revocation starts REVOCATION_LEEWAY_MS later: recorded_at is the transaction's start).
 */
async function eventTime(accountId: string, type: string): Promise<number> {
  const { rows } = await h.identity.deps.store.pool.query<{ recorded_at: Date }>(
    `SELECT recorded_at FROM eventstore.events WHERE stream_id = $1 AND type = $2
     ORDER BY stream_version DESC LIMIT 1`,
    [streamIds.account(accountId), `identity.v1.${type}`],
  );
  if (!rows[0]) throw new Error(`no ${type} on account ${accountId}`);
  return rows[0].recorded_at.getTime();
}

/** Until the writer handled every event in the log (nothing else consumes here). */
async function untilAllHandled(w: RevocationWriter) {
  const { rows } = await h.identity.deps.store.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM eventstore.events",
  );
  const total = rows[0]!.n;
  for (let i = 0; i < 1000 && w.consumer.counters.handled < total; i++) await sleep(10);
  expect(w.consumer.counters.handled).toBeGreaterThanOrEqual(total);
}

describe("the revocation list", () => {
  it("DisableAccount puts the account's entry, at the event's time, within a short time", async () => {
    const accountId = await givenAccount();
    await disableAccount(h.auth, { commandId: cmd(), accountId, reason: "case 17" }, {}, () => {});
    const { entry, ms } = await untilEntry(accountId);
    expect(entry).toEqual({
      revokedAt: (await eventTime(accountId, "AccountDisabled")) + REVOCATION_LEEWAY_MS,
      reason: "disabled",
    });
    expect(ms).toBeLessThan(5_000); // typically a few ms; generous for a loaded machine
  });

  it("RevokeRole puts the account's entry; a granted role puts none", async () => {
    const { schoolId } = await givenSchool(h.identity.deps);
    // School roles go to a person working at the school.
    const staff = await givenPerson(h.identity.deps, schoolId, PersonKind.PERSON_KIND_STAFF);
    const granted = await givenAccount(staff);
    const revoked = await givenAccount(staff);
    for (const accountId of [granted, revoked]) {
      await grantRole(
        h.auth,
        { commandId: cmd(), accountId, grant: teacher(schoolId) },
        {},
        () => {},
      );
    }
    await revokeRole(
      h.auth,
      { commandId: cmd(), accountId: revoked, grant: teacher(schoolId) },
      {},
      () => {},
    );
    const { entry } = await untilEntry(revoked);
    expect(entry).toEqual({
      revokedAt: (await eventTime(revoked, "RoleRevoked")) + REVOCATION_LEEWAY_MS,
      reason: "roles_changed",
    });
    await untilAllHandled(writer);
    expect(await entryOf(granted)).toBeUndefined();
  });

  it("UnassignStaffFromSchool puts each account that lost a role there", async () => {
    const a = await givenSchool(h.identity.deps);
    const b = await givenSchool(h.identity.deps);
    const personId = await givenPerson(h.identity.deps, b.schoolId, PersonKind.PERSON_KIND_STAFF);
    await assignStaffToSchool(h.identity.deps, {
      commandId: cmd(),
      personId,
      schoolId: a.schoolId,
    });
    const atA = await givenAccount(personId);
    const atBOnly = await givenAccount(personId);
    await grantRole(
      h.auth,
      { commandId: cmd(), accountId: atA, grant: teacher(a.schoolId) },
      {},
      () => {},
    );
    await grantRole(
      h.auth,
      { commandId: cmd(), accountId: atBOnly, grant: teacher(b.schoolId) },
      {},
      () => {},
    );
    await unassignStaffFromSchool(h.identity.deps, {
      commandId: cmd(),
      personId,
      schoolId: a.schoolId,
    });
    const { entry } = await untilEntry(atA);
    expect(entry).toEqual({
      revokedAt: (await eventTime(atA, "RoleRevoked")) + REVOCATION_LEEWAY_MS,
      reason: "roles_changed",
    });
    await untilAllHandled(writer);
    expect(await entryOf(atBOnly)).toBeUndefined();
  });

  it("ErasePerson puts every account of the person", async () => {
    const { schoolId } = await givenSchool(h.identity.deps);
    const personId = await givenPerson(h.identity.deps, schoolId, PersonKind.PERSON_KIND_STAFF);
    const accounts = [await givenAccount(personId), await givenAccount(personId)];
    await erasePerson(h.identity.deps, { commandId: cmd(), personId });
    for (const accountId of accounts) {
      const { entry } = await untilEntry(accountId);
      expect(entry).toEqual({
        revokedAt: (await eventTime(accountId, "AccountDeleted")) + REVOCATION_LEEWAY_MS,
        reason: "deleted",
      });
    }
  });

  it("ChangePassword puts the account's entry before it answers", async () => {
    const accountId = await givenAccount();
    await changePassword(
      h.auth,
      { accountId, currentPassword: "", newPassword: "another long password 2" },
      false,
    );
    expect(await entryOf(accountId)).toEqual({
      revokedAt: h.clock.now().getTime(),
      reason: "password_changed",
    });
  });

  it("redelivered events write nothing: every entry keeps its value and revision", async () => {
    const accountId = await givenAccount();
    await disableAccount(h.auth, { commandId: cmd(), accountId, reason: "case 18" }, {}, () => {});
    await untilEntry(accountId);
    await untilAllHandled(writer);
    const before = new Map<string, number>();
    for await (const key of await h.revocations.keys()) {
      before.set(key, (await h.revocations.get(key))!.revision);
    }
    expect(before.size).toBeGreaterThan(3);
    // Every event again: the durables are deleted, so a new writer starts from the first.
    await writer.stop();
    const jsm = await jetstreamManager(h.nc);
    for (let p = 0; p < 16; p++) {
      await jsm.consumers
        .delete(
          names.contextStream("identity").name,
          names.partitionDurable(REVOCATIONS_DURABLE, p),
        )
        .catch(() => {});
    }
    writer = await startRevocationWriter({ nc: h.nc, names, logger, bucket: h.revocations });
    await untilAllHandled(writer);
    const after = new Map<string, number>();
    for await (const key of await h.revocations.keys()) {
      after.set(key, (await h.revocations.get(key))!.revision);
    }
    expect(after).toEqual(before);
  });
});

describe("the revocation writer while the bucket fails", () => {
  it("keeps retrying an event instead of dead-lettering it (the revocation would be lost)", async () => {
    const accountId = await givenAccount();
    // Every read of this account's entry fails for longer than the consumer's default
    // retries (5 attempts, about 11 s): a JetStream leader election or request timeouts.
    let failures = 0;
    const flaky = new Proxy(h.revocations, {
      get(target, prop, receiver) {
        if (prop !== "get") return Reflect.get(target, prop, receiver);
        return (key: string) => {
          if (key === accountId && failures < 5) {
            failures++;
            return Promise.reject(new Error("TimeoutError: timeout"));
          }
          return target.get(key);
        };
      },
    });
    await writer.stop();
    const w = await startRevocationWriter({ nc: h.nc, names, logger, bucket: flaky });
    try {
      await disableAccount(
        h.auth,
        { commandId: cmd(), accountId, reason: "case 19" },
        {},
        () => {},
      );
      const deadline = Date.now() + 30_000;
      while (
        Date.now() < deadline &&
        w.consumer.counters.deadLettered === 0 &&
        !(await entryOf(accountId))
      ) {
        await sleep(50);
      }
      expect(w.consumer.counters.deadLettered).toBe(0);
      expect(failures).toBe(5);
      expect(await entryOf(accountId)).toMatchObject({ reason: "disabled" });
    } finally {
      await w.stop();
      writer = await startRevocationWriter({ nc: h.nc, names, logger, bucket: h.revocations });
    }
  }, 60_000);
});
