import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type EventStore, STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { PersonalData, Sex } from "@otmetka/proto/identity/v1/identity_service";
import { DomainError, fixedClock } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect } from "vitest";
import { openClassGroup } from "../commands/class-groups.js";
import type { IdentityDeps } from "../commands/deps.js";
import { enrollStudent } from "../commands/enrollment.js";
import { registerMunicipality, registerSchool } from "../commands/organisations.js";
import { registerPerson } from "../commands/people.js";
import { openIdentityDatabase } from "../db/open-database.js";
import { PersonKind } from "../domain/person.js";
import { testKeys } from "./test-keys.js";

/** "Today" of in-process tests. */
export const TEST_NOW = "2026-11-28T09:00:00Z";

/**
 * Command and query code against this test file's own migrated database, without gRPC:
 * fast, and errors arrive as DomainErrors.
 */
export function useIdentity(label: string) {
  const env = useTestEnvironment({ label });
  const keys = testKeys();
  let deps: IdentityDeps | undefined;
  beforeAll(async () => {
    const store: EventStore = await openIdentityDatabase(env.databaseUrl);
    deps = {
      store,
      clock: fixedClock(TEST_NOW),
      masterKeys: keys.masterKeys,
      blindIndexKey: keys.blindIndexKey,
    };
  });
  afterAll(async () => {
    await deps?.store.close();
  });
  return {
    env,
    keys,
    get deps(): IdentityDeps {
      if (!deps) throw new Error("deps read before beforeAll");
      return deps;
    },
  };
}

export const cmd = () => randomUUID();

/**
 * Waits until `n` of this database's backends wait for a lock, or `done()` holds (at most ~5 s):
 * how the race tests know a command is blocked on the lock they hold.
 */
export async function untilWaiting(deps: IdentityDeps, n: number, done: () => boolean) {
  for (let i = 0; i < 200 && !done(); i++) {
    const { rows } = await deps.store.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.n ?? 0) >= n) return;
    await sleep(25);
  }
}

/** Every row of the given tables, to show that a refused command changed nothing. */
export async function snapshotTables(deps: IdentityDeps, tables: string[]): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const t of tables) {
    // Whole-row order: ties on any one column would make equal tables compare unequal.
    out[t] = (await deps.store.pool.query(`SELECT * FROM ${t} x ORDER BY x::text`)).rows;
  }
  return out;
}

export const ALL_TABLES = [
  "eventstore.events",
  "eventstore.commands",
  "municipalities",
  "schools",
  "people",
  "person_keys",
  "person_name_index",
  "class_groups",
  "enrollments",
  "subgroups",
  "subgroup_members",
  "guardian_links",
  "staff_schools",
  "staff_schools_left",
  "accounts",
  "refresh_families",
  "refresh_tokens",
  "signing_keys",
  "account_grants",
  "disabled_accounts",
];

/** Asserts `run` rejects with a DomainError of `kind` about `field`, and no table changed. */
export async function expectRefused(
  deps: IdentityDeps,
  run: () => Promise<unknown>,
  kind: DomainError["kind"],
  field: string,
): Promise<DomainError> {
  const before = await snapshotTables(deps, ALL_TABLES);
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  const de = err as DomainError;
  expect({ kind: de.kind, field: de.field }, de.message).toEqual({ kind, field });
  expect(await snapshotTables(deps, ALL_TABLES)).toEqual(before);
  return de;
}

export const VALID_INN = "7707083893";
export const VALID_OGRN = "1027700132195";

export async function givenSchool(deps: IdentityDeps, timeZone = "") {
  const { municipalityId } = await registerMunicipality(deps, {
    commandId: cmd(),
    name: `Город ${randomUUID().slice(0, 6)}`,
  });
  const { schoolId } = await registerSchool(deps, {
    commandId: cmd(),
    municipalityId,
    name: "Муниципальное общеобразовательное учреждение СОШ № 1",
    shortName: "СОШ № 1",
    address: "ул. Ленина, 1",
    timeZone,
    inn: VALID_INN,
    ogrn: VALID_OGRN,
  });
  return { municipalityId, schoolId };
}

export function personalData(overrides: Partial<PersonalData> = {}): PersonalData {
  return PersonalData.fromPartial({
    familyName: "Петрова",
    givenName: "Анна",
    patronymic: "Сергеевна",
    birthDate: "2015-03-14",
    sex: Sex.SEX_FEMALE,
    snils: "112-233-445 95",
    contacts: [],
    ...overrides,
  });
}

/** A person of `kind` registered at the school, with personalData(`data`); their id. */
export async function givenPerson(
  deps: IdentityDeps,
  schoolId: string,
  kind: PersonKind = PersonKind.PERSON_KIND_STUDENT,
  data: Partial<PersonalData> = {},
): Promise<string> {
  const { personId } = await registerPerson(deps, {
    commandId: cmd(),
    kind,
    schoolId,
    personalData: personalData(data),
  });
  return personId;
}

/** A pupil registered at the school and enrolled in the class group from 2026-09-01; their id. */
export async function givenPupil(
  deps: IdentityDeps,
  schoolId: string,
  classGroupId: string,
): Promise<string> {
  const personId = await givenPerson(deps, schoolId);
  await enrollStudent(deps, {
    commandId: cmd(),
    personId,
    classGroupId,
    effectiveDate: "2026-09-01",
  });
  return personId;
}

/** A class group opened at the school, in 2026/27 unless told; its id. */
export async function givenClassGroup(
  deps: IdentityDeps,
  group: {
    schoolId: string;
    gradeLevel: number;
    letter: string;
    homeroomTeacherId?: string;
    academicYear?: { startYear: number };
  },
): Promise<string> {
  const { classGroupId } = await openClassGroup(deps, {
    commandId: cmd(),
    academicYear: { startYear: 2026 },
    homeroomTeacherId: "",
    ...group,
  });
  return classGroupId;
}

/**
 * Holds `streamId`'s append lock, runs `blocked` until it waits for it (it has read and decided),
 * runs `meanwhile` to its end, then lets `blocked` go: their outcomes (value or error). How the
 * race tests show a command that read a stream another command then wrote.
 */
export async function whileBlockedOnStream(
  deps: IdentityDeps,
  streamId: string,
  blocked: () => Promise<unknown>,
  meanwhile: () => Promise<unknown>,
): Promise<[unknown, unknown]> {
  const holder = await deps.store.pool.connect();
  try {
    await holder.query("BEGIN");
    await holder.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
      STREAM_LOCK_CLASS,
      streamId,
    ]);
    let settled = false;
    const first = blocked().then(
      (v) => v,
      (e: unknown) => e,
    );
    void first.finally(() => (settled = true));
    await untilWaiting(deps, 1, () => settled);
    const second = await meanwhile().then(
      (v) => v,
      (e: unknown) => e,
    );
    await holder.query("ROLLBACK");
    return [await first, second];
  } finally {
    holder.release();
  }
}

/** Whether the store locks stream `a` before stream `b` in one append (it sorts by hashtext). */
export async function locksBefore(deps: IdentityDeps, a: string, b: string): Promise<boolean> {
  const { rows } = await deps.store.pool.query<{ before: boolean }>(
    "SELECT hashtext($1) < hashtext($2) AS before",
    [a, b],
  );
  return rows[0]!.before;
}
