import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { type Contact, ContactKind, PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import { describe, expect, it } from "vitest";
import { useAuthHarness } from "../test-support/auth-harness.js";
import { grpcError } from "../test-support/grpc-client.js";
import {
  ALL_TABLES,
  givenPerson,
  givenSchool,
  personalData,
  snapshotTables,
} from "../test-support/in-process.js";

const h = useAuthHarness("identity_pd_input");
const EMAIL = ContactKind.CONTACT_KIND_EMAIL;
const PHONE = ContactKind.CONTACT_KIND_PHONE;

/** Contacts whose second entry holds a control character the patterns used to let through. */
const BAD_SECOND_CONTACT: [string, Contact][] = [
  ["NUL in an e-mail", { kind: EMAIL, value: "anna\u0000@example.ru" }],
  ["BEL in an e-mail", { kind: EMAIL, value: "an\u0007na@example.ru" }],
  ["C1 NEL in an e-mail", { kind: EMAIL, value: "anna@exa\u0085mple.ru" }],
  ["DEL in an e-mail", { kind: EMAIL, value: "anna@example.ru\u007F" }],
  ["a line feed inside a phone", { kind: PHONE, value: "+7 351\n000-00-00" }],
  ["a tab inside a phone", { kind: PHONE, value: "+7\t351 000-00-00" }],
];
const GOOD: Contact = { kind: PHONE, value: "+7 351 000-00-00" };
const FIELD = "personal_data.contacts[1]";

/** The call fails INVALID_ARGUMENT naming the contact, without its value, and writes nothing. */
async function expectInvalidContact(call: () => Promise<unknown>, bad: Contact) {
  const before = await snapshotTables(h.identity.deps, ALL_TABLES);
  const err = await grpcError(call());
  expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
  expect(err.details).toBe(`${FIELD}: must not contain control characters`);
  expect(err.metadata.get("field")).toEqual([FIELD]);
  expect(err.details).not.toContain(bad.value);
  expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
}

/** Registers a guardian with `contacts` and reads back the contacts stored. */
async function registeredContacts(contacts: { kind: ContactKind; value: string }[]) {
  const { schoolId } = await givenSchool(h.identity.deps);
  const md = h.md(await h.adminToken());
  const { personId } = await h.api.registerPerson(
    {
      commandId: randomUUID(),
      kind: PersonKind.PERSON_KIND_GUARDIAN,
      schoolId,
      personalData: personalData({ contacts }),
    },
    md,
  );
  const { people } = await h.api.getPeople(
    { personIds: [personId], includePersonalData: true },
    md,
  );
  return people[0]?.personalData?.contacts;
}

describe("contacts in personal data over gRPC", () => {
  it.each(BAD_SECOND_CONTACT)("RegisterPerson refuses %s, changing nothing", async (_, bad) => {
    const { schoolId } = await givenSchool(h.identity.deps);
    const md = h.md(await h.adminToken());
    await expectInvalidContact(
      () =>
        h.api.registerPerson(
          {
            commandId: randomUUID(),
            kind: PersonKind.PERSON_KIND_GUARDIAN,
            schoolId,
            personalData: personalData({ contacts: [GOOD, bad] }),
          },
          md,
        ),
      bad,
    );
  });

  it.each(BAD_SECOND_CONTACT)("ChangePersonalData refuses %s, changing nothing", async (_, bad) => {
    const { schoolId } = await givenSchool(h.identity.deps);
    const personId = await givenPerson(h.identity.deps, schoolId, PersonKind.PERSON_KIND_GUARDIAN);
    const md = h.md(await h.adminToken());
    await expectInvalidContact(
      () =>
        h.api.changePersonalData(
          {
            commandId: randomUUID(),
            personId,
            personalData: personalData({ contacts: [GOOD, bad] }),
          },
          md,
        ),
      bad,
    );
  });

  it("still accepts e-mails and phones, trimmed, with white space inside a phone", async () => {
    const contacts = [
      { kind: EMAIL, value: " anna@example.ru\n" },
      { kind: PHONE, value: "\t+7 (351) 000-00-00 " },
    ];
    const stored = await registeredContacts(contacts);
    expect(stored).toEqual([
      { kind: EMAIL, value: "anna@example.ru" },
      { kind: PHONE, value: "+7 (351) 000-00-00" },
    ]);
  });
});

describe("the size of contacts", () => {
  const longEmail = (length: number) => `${"a".repeat(length - "@example.ru".length)}@example.ru`;
  it.each([
    [
      "an e-mail over 254 characters",
      [GOOD, { kind: EMAIL, value: longEmail(255) }],
      "personal_data.contacts[1]",
      "must be at most 254 characters",
    ],
    [
      "eleven contacts",
      Array.from({ length: 11 }, () => GOOD),
      "personal_data.contacts",
      "must be at most 10",
    ],
  ])(
    "RegisterPerson and ChangePersonalData refuse %s, changing nothing",
    async (_, contacts, field, rule) => {
      const { schoolId } = await givenSchool(h.identity.deps);
      const personId = await givenPerson(
        h.identity.deps,
        schoolId,
        PersonKind.PERSON_KIND_GUARDIAN,
      );
      const md = h.md(await h.adminToken());
      const personal = personalData({ contacts });
      const calls = [
        () =>
          h.api.registerPerson(
            {
              commandId: randomUUID(),
              kind: PersonKind.PERSON_KIND_GUARDIAN,
              schoolId,
              personalData: personal,
            },
            md,
          ),
        () =>
          h.api.changePersonalData(
            { commandId: randomUUID(), personId, personalData: personal },
            md,
          ),
      ];
      for (const call of calls) {
        const before = await snapshotTables(h.identity.deps, ALL_TABLES);
        const err = await grpcError(call());
        // Before: both accepted (a contact of any length, any number of them).
        expect({ code: err.code, details: err.details, field: err.metadata.get("field") }).toEqual({
          code: status.INVALID_ARGUMENT,
          details: `${field}: ${rule}`,
          field: [field],
        });
        expect(await snapshotTables(h.identity.deps, ALL_TABLES)).toEqual(before);
      }
    },
  );

  it("accepts ten contacts, one an e-mail of 254 characters", async () => {
    const contacts = [
      { kind: EMAIL, value: longEmail(254) },
      ...Array.from({ length: 9 }, () => GOOD),
    ];
    const stored = await registeredContacts(contacts);
    expect(stored).toEqual(contacts);
  });
});
