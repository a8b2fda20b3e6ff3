import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseMasterKeys } from "../crypto/key-config.js";
import { rewrapDataKeys } from "../crypto/person-keys.js";
import { PersonKind } from "../domain/person.js";
import { getPeople, searchPeople } from "../projections/people-queries.js";
import {
  cmd,
  expectRefused,
  givenSchool,
  personalData,
  useIdentity,
} from "../test-support/in-process.js";
import { closeSchool } from "./organisations.js";
import {
  changePersonalData,
  decryptForPerson,
  encryptForPerson,
  erasePerson,
  liftLegalHold,
  placeLegalHold,
  registerPerson,
} from "./people.js";

const t = useIdentity("identity_people");
const STUDENT = PersonKind.PERSON_KIND_STUDENT;

async function givenPerson(schoolId: string, familyName = "Петрова") {
  return registerPerson(t.deps, {
    commandId: cmd(),
    kind: STUDENT,
    schoolId,
    personalData: personalData({ familyName }),
  });
}

describe("people", () => {
  it("keeps personal data only as ciphertext and returns it decrypted on request", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const marker = `Маркерова${randomBytes(4).toString("hex")}`;
    const { personId } = await givenPerson(schoolId, marker);
    const [withData] = await getPeople(t.deps, [personId], true);
    expect(withData?.personalData).toMatchObject({
      familyName: marker,
      givenName: "Анна",
      birthDate: "2015-03-14",
      snils: "11223344595",
    });
    const [withoutData] = await getPeople(t.deps, [personId], false);
    expect(withoutData).toMatchObject({ personId, schoolId, kind: STUDENT, erased: false });
    expect(withoutData?.personalData).toBeUndefined();
    const { rows } = await t.deps.store.pool.query(
      "SELECT count(*)::int AS n FROM eventstore.events WHERE data::text LIKE $1 OR metadata::text LIKE $1",
      [`%${marker}%`],
    );
    expect(rows[0].n).toBe(0);
  });

  it("is idempotent by command id: one person, one key", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const input = { commandId: cmd(), kind: STUDENT, schoolId, personalData: personalData() };
    const a = await registerPerson(t.deps, input);
    const b = await registerPerson(t.deps, input);
    expect(b).toEqual(a);
    const { rows } = await t.deps.store.pool.query(
      "SELECT count(*)::int AS n FROM people WHERE school_id = $1",
      [schoolId],
    );
    expect(rows[0].n).toBe(1);
  });

  it("refuses bad personal data, unknown or closed schools, changing nothing", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const d = t.deps;
    const reg =
      (over: Parameters<typeof personalData>[0], extra: object = {}) =>
      () =>
        registerPerson(d, {
          commandId: cmd(),
          kind: STUDENT,
          schoolId,
          personalData: personalData(over),
          ...extra,
        });
    await expectRefused(
      d,
      reg({ familyName: "  " }),
      "invalid_argument",
      "personal_data.family_name",
    );
    await expectRefused(d, reg({ givenName: "" }), "invalid_argument", "personal_data.given_name");
    await expectRefused(
      d,
      reg({ snils: "112-233-445 96" }),
      "invalid_argument",
      "personal_data.snils",
    );
    // The test clock says 2026-11-28 14:00 in Yekaterinburg.
    await expectRefused(
      d,
      reg({ birthDate: "2026-11-29" }),
      "invalid_argument",
      "personal_data.birth_date",
    );
    await expectRefused(d, reg({ sex: 0 }), "invalid_argument", "personal_data.sex");
    await expectRefused(d, reg({}, { kind: 0 }), "invalid_argument", "kind");
    await expectRefused(
      d,
      reg({}, { schoolId: "0190e1b2-0000-7000-8000-000000000002" }),
      "not_found",
      "school_id",
    );
    await closeSchool(d, { commandId: cmd(), schoolId, closedOn: "2026-11-01" });
    await expectRefused(d, reg({}), "failed_precondition", "school_id");
  });

  it("finds people by name parts within their school only, through keyed tokens", async () => {
    const a = await givenSchool(t.deps);
    const b = await givenSchool(t.deps);
    const { personId } = await givenPerson(a.schoolId, "Ёлкина");
    await givenPerson(a.schoolId, "Смирнова");
    expect(await searchPeople(t.deps, a.schoolId, "елкина АННА")).toEqual([personId]);
    expect(await searchPeople(t.deps, a.schoolId, "Ёлкина Мария")).toEqual([]);
    expect(await searchPeople(t.deps, b.schoolId, "Ёлкина")).toEqual([]);
    const { rows } = await t.deps.store.pool.query(
      "SELECT count(*)::int AS n FROM person_name_index WHERE encode(token, 'escape') LIKE '%лкин%'",
    );
    expect(rows[0].n).toBe(0);
  });

  it("changes personal data under the same key and re-indexes the name", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const { personId } = await givenPerson(schoolId, "Девичья");
    await changePersonalData(t.deps, {
      commandId: cmd(),
      personId,
      personalData: personalData({ familyName: "Замужняя" }),
    });
    const [p] = await getPeople(t.deps, [personId], true);
    expect(p?.personalData?.familyName).toBe("Замужняя");
    expect(await searchPeople(t.deps, schoolId, "Девичья")).toEqual([]);
    expect(await searchPeople(t.deps, schoolId, "замужняя")).toEqual([personId]);
    await expectRefused(
      t.deps,
      () =>
        changePersonalData(t.deps, {
          commandId: cmd(),
          personId,
          personalData: personalData({ snils: "11223344596" }),
        }),
      "invalid_argument",
      "personal_data.snils",
    );
    await erasePerson(t.deps, { commandId: cmd(), personId });
    await expectRefused(
      t.deps,
      () =>
        changePersonalData(t.deps, { commandId: cmd(), personId, personalData: personalData() }),
      "failed_precondition",
      "person_id",
    );
  });

  it("refuses erasure under a legal hold, then erases after it is lifted", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const { personId } = await givenPerson(schoolId);
    const d = t.deps;
    await expectRefused(
      d,
      () => liftLegalHold(d, { commandId: cmd(), personId, reason: "дело 7" }),
      "failed_precondition",
      "person_id",
    );
    await placeLegalHold(d, { commandId: cmd(), personId, reason: "дело № 2-115/2026" });
    await expectRefused(
      d,
      () => placeLegalHold(d, { commandId: cmd(), personId, reason: "ещё" }),
      "failed_precondition",
      "person_id",
    );
    const refusal = await expectRefused(
      d,
      () => erasePerson(d, { commandId: cmd(), personId }),
      "failed_precondition",
      "person_id",
    );
    expect(refusal.message).toContain("legal hold");
    expect((await getPeople(d, [personId], false))[0]?.legalHold).toBe(true);
    await liftLegalHold(d, { commandId: cmd(), personId, reason: "дело закрыто" });
    await erasePerson(d, { commandId: cmd(), personId });
    const [erased] = await getPeople(d, [personId], true);
    expect(erased).toMatchObject({ erased: true, legalHold: false });
    expect(erased?.personalData).toBeUndefined();
    await expectRefused(
      d,
      () => erasePerson(d, { commandId: cmd(), personId }),
      "failed_precondition",
      "person_id",
    );
    await expectRefused(
      d,
      () => erasePerson(d, { commandId: cmd(), personId: "0190e1b2-0000-7000-8000-000000000003" }),
      "not_found",
      "person_id",
    );
  });

  it("encrypts text for other services under the person's key, not usable for another purpose", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const { personId } = await givenPerson(schoolId);
    const other = await givenPerson(schoolId);
    const ciphertext = await encryptForPerson(t.deps, {
      personId,
      plaintext: Buffer.from("болел"),
    });
    expect((await decryptForPerson(t.deps, { personId, ciphertext })).toString()).toBe("болел");
    await expect(
      decryptForPerson(t.deps, { personId: other.personId, ciphertext }),
    ).rejects.toMatchObject({ kind: "invalid_argument", field: "ciphertext" });
    // The personal-data blob of the event cannot be opened through DecryptForPerson.
    const { rows } = await t.deps.store.pool.query<{ personal_data: Buffer }>(
      "SELECT personal_data FROM people WHERE person_id = $1",
      [personId],
    );
    await expect(
      decryptForPerson(t.deps, { personId, ciphertext: rows[0]!.personal_data }),
    ).rejects.toMatchObject({ kind: "invalid_argument", field: "ciphertext" });
    await erasePerson(t.deps, { commandId: cmd(), personId });
    await expect(decryptForPerson(t.deps, { personId, ciphertext })).rejects.toMatchObject({
      kind: "failed_precondition",
      field: "person_id",
    });
  });

  it("rotates the master key: data keys are rewrapped and still open the data", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const { personId } = await givenPerson(schoolId);
    const old = t.keys.env.IDENTITY_MASTER_KEYS;
    const rotated = parseMasterKeys(`k-new:${randomBytes(32).toString("base64")},${old}`)!;
    expect(await rewrapDataKeys(t.deps.store.pool, rotated)).toBeGreaterThan(0);
    const { rows } = await t.deps.store.pool.query<{ master_key_id: string }>(
      "SELECT DISTINCT master_key_id FROM person_keys",
    );
    expect(rows.map((r) => r.master_key_id)).toEqual(["k-new"]);
    // Only the new key configured: the data still decrypts.
    const newOnly = parseMasterKeys(
      `${rotated.active.id}:${rotated.active.key.toString("base64")}`,
    )!;
    const [p] = await getPeople({ ...t.deps, masterKeys: newOnly }, [personId], true);
    expect(p?.personalData?.familyName).toBe("Петрова");
    expect(await rewrapDataKeys(t.deps.store.pool, rotated)).toBe(0);
    // Back under the file's own key, for any test that runs after this one.
    await rewrapDataKeys(
      t.deps.store.pool,
      parseMasterKeys(`${old},${newOnly.active.id}:${newOnly.active.key.toString("base64")}`)!,
    );
  });
});

describe("a retry of RegisterPerson", () => {
  it("answers with the person registered first, also once the school has closed", async () => {
    const { schoolId } = await givenSchool(t.deps);
    const input = { commandId: cmd(), kind: STUDENT, schoolId, personalData: personalData() };
    const first = await registerPerson(t.deps, input);
    await closeSchool(t.deps, { commandId: cmd(), schoolId, closedOn: "2026-12-31" });
    // Before: FAILED_PRECONDITION school_id, so the client never learnt whom it had registered.
    expect(await registerPerson(t.deps, input)).toEqual(first);
    const { rows } = await t.deps.store.pool.query(
      "SELECT count(*)::int AS n FROM people WHERE school_id = $1",
      [schoolId],
    );
    expect(rows[0].n).toBe(1);
  });
});
