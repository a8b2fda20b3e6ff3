import { ContactKind, type PersonalData, Sex } from "@otmetka/proto/identity/v1/identity_service";
import { type Clock, hasControlCharacter } from "@otmetka/service-kit";
import { invalidInput } from "./errors.js";
import { requireBirthDate, requireName, requireSnils } from "./validators.js";

/** Contacts per person, and characters per contact (an e-mail address's limit, RFC 5321). */
export const MAX_CONTACTS = 10;
export const MAX_CONTACT_LENGTH = 254;

/**
 * Validates and normalises personal data. Error messages name the field and the rule, never
 * the value: they are returned to clients and may be logged.
 */
export function validatePersonalData(
  raw: PersonalData | undefined,
  clock: Clock,
  timeZone: string,
): PersonalData {
  if (!raw) throw invalidInput("personal_data", "is required");
  const f = (name: string) => `personal_data.${name}`;
  // Every reader of the person (a class journal reads 30 at once) decrypts them all.
  if (raw.contacts.length > MAX_CONTACTS)
    throw invalidInput(f("contacts"), `must be at most ${MAX_CONTACTS}`);
  const patronymic =
    raw.patronymic.trim() === "" ? "" : requireName(f("patronymic"), raw.patronymic);
  if (raw.sex !== Sex.SEX_MALE && raw.sex !== Sex.SEX_FEMALE) {
    throw invalidInput(f("sex"), "must be SEX_MALE or SEX_FEMALE");
  }
  return {
    familyName: requireName(f("family_name"), raw.familyName),
    givenName: requireName(f("given_name"), raw.givenName),
    patronymic,
    birthDate: requireBirthDate(f("birth_date"), raw.birthDate, clock, timeZone),
    sex: raw.sex,
    snils: raw.snils.trim() === "" ? "" : requireSnils(f("snils"), raw.snils),
    contacts: raw.contacts.map((c, i) => {
      const value = c.value.trim();
      if (value.length > MAX_CONTACT_LENGTH)
        throw invalidInput(
          `${f("contacts")}[${i}]`,
          `must be at most ${MAX_CONTACT_LENGTH} characters`,
        );
      // Before the patterns: the e-mail one lets NUL and other controls through, the phone
      // one's \s line breaks; ciphertext keeps them, but every reader gets them back.
      if (hasControlCharacter(value))
        throw invalidInput(`${f("contacts")}[${i}]`, "must not contain control characters");
      if (c.kind === ContactKind.CONTACT_KIND_PHONE && /^\+?[\d\s()-]{5,20}$/.test(value)) {
        return { kind: c.kind, value };
      }
      if (c.kind === ContactKind.CONTACT_KIND_EMAIL && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
        return { kind: c.kind, value };
      }
      throw invalidInput(`${f("contacts")}[${i}]`, "must be a phone number or an e-mail address");
    }),
  };
}

/** The parts of a name the blind index covers. */
export const nameText = (p: PersonalData) => [p.familyName, p.givenName, p.patronymic].join(" ");

/**
 * What a school that held the person before may read (README "A person's former schools"):
 * the name as its journals show it; every other field empty.
 */
export const namesOf = (p: PersonalData): PersonalData => ({
  familyName: p.familyName,
  givenName: p.givenName,
  patronymic: p.patronymic,
  birthDate: "",
  sex: Sex.SEX_UNSPECIFIED,
  snils: "",
  contacts: [],
});
