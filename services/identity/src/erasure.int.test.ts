import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { status } from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ensureStream, messagingNames } from "@otmetka/messaging";
import { PersonKind, Sex } from "@otmetka/proto/identity/v1/identity_service";
import { useTestEnvironment } from "@otmetka/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrapDataKey } from "./crypto/data-keys.js";
import { grpcError, identityClient } from "./test-support/grpc-client.js";
import { type IdentityProcess, startServedIdentity } from "./test-support/identity-process.js";
import {
  containsNeedle,
  type Needles,
  scanDatabase,
  scanNatsStreams,
} from "./test-support/leak-scan.js";
import { testKeys } from "./test-support/test-keys.js";

/*
 * The "Done when" erasure test of issue 6, against the service as a process: a person with a
 * unique marker name is readable through the API; after ErasePerson nothing of theirs can be
 * decrypted and no table, NATS stream of this test's prefix or log line holds the marker or
 * their data key.
 */
const env = useTestEnvironment({ label: "identity_erasure" });
const keys = testKeys();
let service: IdentityProcess;
let client: ReturnType<typeof identityClient>;
let db: pg.Pool;

beforeAll(async () => {
  const served = await startServedIdentity({ ...env.env, ...keys.env, LOG_LEVEL: "trace" });
  service = served.service;
  client = identityClient(served.address, served.adminToken);
  db = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  // The dead-letter stream of this prefix, as consumers of identity's events would create it:
  // it is scanned with the domain stream.
  const nc = await connect({ servers: env.natsUrl });
  await ensureStream(await jetstreamManager(nc), messagingNames(env.natsPrefix).deadLetterStream);
  await nc.close();
});

afterAll(async () => {
  client?.close();
  await db?.end();
  if (service && service.child.exitCode === null) service.child.kill("SIGKILL");
});

async function waitForRelay(expectedEvents: number) {
  const nc = await connect({ servers: env.natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    // Generous: the relay reads below the server-wide xmin, which other tests' long
    // transactions on the shared server hold back.
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      const info = await jsm.streams.info(`${env.natsPrefix}_IDENTITY`);
      if (info.state.messages >= expectedEvents) return;
      await sleep(50);
    }
    throw new Error(`relay did not publish ${expectedEvents} events`);
  } finally {
    await nc.close();
  }
}

describe("erasure (crypto-shredding)", () => {
  it("leaves nothing of the person readable anywhere, and is refused under legal hold", async () => {
    const c = client.call;
    const marker = `Стиралкина${randomBytes(6).toString("hex")}`;
    const { municipalityId } = await c.registerMunicipality({
      commandId: randomUUID(),
      name: "Миасский ГО",
    });
    const { schoolId } = await c.registerSchool({
      commandId: randomUUID(),
      municipalityId,
      name: "МАОУ СОШ № 10",
      shortName: "СОШ 10",
      address: "пр. Автозаводцев, 10",
      timeZone: "",
      inn: "7707083893",
      ogrn: "1027700132195",
    });
    const { personId } = await c.registerPerson({
      commandId: randomUUID(),
      kind: PersonKind.PERSON_KIND_STUDENT,
      schoolId,
      personalData: {
        familyName: marker,
        givenName: `${marker}И`,
        patronymic: "Олеговна",
        birthDate: "2014-09-01",
        sex: Sex.SEX_FEMALE,
        snils: "112-233-445 95",
        contacts: [],
      },
    });

    const portalId = `EPGU-${marker}`;
    await c.assignPortalId({ commandId: randomUUID(), studentId: personId, portalId });

    // Readable before erasure: by id, by name search, and a comment stored by another service.
    const before = await c.getPeople({ personIds: [personId], includePersonalData: true });
    expect(before.people[0]?.personalData?.familyName).toBe(marker);
    expect(before.people[0]?.portalId).toBe(portalId);
    expect((await c.searchPeople({ schoolId, query: marker })).personIds).toEqual([personId]);
    const comment = `Комментарий к отметке ${marker}`;
    const { ciphertext: commentCt } = await c.encryptForPerson({
      personId,
      plaintext: Buffer.from(comment),
    });
    expect(
      (await c.decryptForPerson({ personId, ciphertext: commentCt })).plaintext.toString(),
    ).toBe(comment);

    // The data key, as the test can see it now (it knows the master key).
    const { rows: keyRows } = await db.query<{ master_key_id: string; wrapped_key: Buffer }>(
      "SELECT master_key_id, wrapped_key FROM person_keys WHERE person_id = $1",
      [personId],
    );
    const wrapped = keyRows[0]!.wrapped_key;
    const dataKey = unwrapDataKey(keys.masterKeys, personId, {
      masterKeyId: keyRows[0]!.master_key_id,
      wrapped,
    });
    const needles: Needles = {
      marker: Buffer.from(marker, "utf8"),
      "data key": dataKey,
      "wrapped data key": wrapped,
    };
    // The scanner finds what is there (the key row), so its silence below means something.
    expect(await scanDatabase(db, needles)).toEqual([
      "public.person_keys.wrapped_key: wrapped data key",
    ]);

    // A legal hold refuses erasure with its reason.
    await c.placeLegalHold({
      commandId: randomUUID(),
      personId,
      reason: "запрос суда № 2-115/2026",
    });
    const refused = await grpcError(c.erasePerson({ commandId: randomUUID(), personId }));
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toContain("legal hold (запрос суда № 2-115/2026)");
    expect(
      (await c.getPeople({ personIds: [personId], includePersonalData: true })).people[0]
        ?.personalData?.familyName,
    ).toBe(marker);
    await c.liftLegalHold({ commandId: randomUUID(), personId, reason: "дело закрыто" });

    await c.erasePerson({ commandId: randomUUID(), personId });

    // Nothing decrypts any more: the comment, the personal data in the events and read model.
    const denied = await grpcError(c.decryptForPerson({ personId, ciphertext: commentCt }));
    expect(denied.code).toBe(status.FAILED_PRECONDITION);
    expect(
      (await grpcError(c.encryptForPerson({ personId, plaintext: Buffer.from("x") }))).code,
    ).toBe(status.FAILED_PRECONDITION);
    const after = await c.getPeople({ personIds: [personId], includePersonalData: true });
    expect(after.people[0]).toMatchObject({ personId, erased: true, schoolId });
    expect(after.people[0]?.personalData).toBeUndefined();
    expect((await c.searchPeople({ schoolId, query: marker })).personIds).toEqual([]);
    const { rows: events } = await db.query<{ data: { personalData?: string } }>(
      "SELECT data FROM eventstore.events WHERE stream_id = $1 ORDER BY stream_version",
      [`person-${personId}`],
    );
    const blobs = events.flatMap((e) => (e.data.personalData ? [e.data.personalData] : []));
    expect(blobs.length).toBeGreaterThan(0);
    for (const blob of blobs) {
      const err = await grpcError(
        c.decryptForPerson({ personId, ciphertext: Buffer.from(blob, "base64") }),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
    }
    expect(
      (await db.query("SELECT 1 FROM person_keys WHERE person_id = $1", [personId])).rowCount,
    ).toBe(0);

    // No table, no NATS stream of this prefix, no log line holds the marker or the key.
    expect(await scanDatabase(db, needles)).toEqual([]);
    const { rows: count } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM eventstore.events",
    );
    await waitForRelay(count[0]!.n);
    const nats = await scanNatsStreams(env.natsUrl, env.natsPrefix, needles);
    expect(Object.keys(nats.streams).sort()).toEqual(
      [
        `${env.natsPrefix}_AUDIT`,
        `${env.natsPrefix}_DEADLETTER`,
        `${env.natsPrefix}_IDENTITY`,
      ].sort(),
    );
    expect(nats.streams[`${env.natsPrefix}_IDENTITY`]).toBe(count[0]!.n);
    expect(nats.hits).toEqual([]);
    // ...while the same scan does find what the streams hold: the person's id.
    const control = await scanNatsStreams(env.natsUrl, env.natsPrefix, {
      id: Buffer.from(personId),
    });
    expect(control.hits.length).toBeGreaterThan(0);
    const logs = service.stdout + service.stderr;
    expect(logs).toContain(personId); // the logs do name the person, by id
    for (const [label, needle] of Object.entries(needles)) {
      expect(containsNeedle(logs, needle), `${label} in the service's logs`).toBe(false);
    }
  });
});
