import { type Person, PersonalData } from "@otmetka/proto/identity/v1/identity_service";
import type { IdentityDeps } from "../commands/deps.js";
import { aadOf, open } from "../crypto/aead.js";
import { nameTokens } from "../crypto/blind-index.js";
import { unwrapDataKey } from "../crypto/data-keys.js";
import { namesOf } from "../domain/personal-data.js";

/** What GetPeople gives one caller of a batch, decided once per call. */
export interface PeopleAccess {
  /** Read by name only (personal data on request): a former school's staff. */
  namesOnly: ReadonlySet<string>;
  /**
   * Each person's current schools (`person_schools`, from the same query as the decision),
   * for those the caller may read (all of their data or the name); absent: not the caller's.
   */
  currentSchools: ReadonlyMap<string, string[]>;
}

interface PersonRow {
  person_id: string;
  kind: number;
  school_id: string;
  municipality_id: string;
  personal_data: Buffer | null;
  legal_hold: boolean;
  erased: boolean;
  portal_consent: boolean;
  portal_id: Buffer | null;
  master_key_id: string | null;
  wrapped_key: Buffer | null;
}

/**
 * People by id, in the order asked (unknown ids left out). Personal data and the portal id
 * only on request, decrypted here with the key rows read in the same query (one round trip
 * for the whole batch); erased people have no key row and come back without them. People in
 * `access.namesOnly` come back with their name alone, marked (personal_data_names_only);
 * `current_school_ids` only for people in `access.currentSchools` (the caller's to read).
 */
export async function getPeople(
  deps: IdentityDeps,
  personIds: string[],
  includePersonalData: boolean,
  access: PeopleAccess = { namesOnly: new Set(), currentSchools: new Map() },
): Promise<Person[]> {
  if (personIds.length === 0) return [];
  const { rows } = await deps.store.pool.query<PersonRow>(
    `SELECT p.person_id, p.kind::int AS kind, p.school_id, p.municipality_id, p.personal_data,
            p.legal_hold, p.erased, p.portal_consent, p.portal_id,
            k.master_key_id, k.wrapped_key
     FROM people p LEFT JOIN person_keys k ON $2 AND k.person_id = p.person_id
     WHERE p.person_id = ANY($1::uuid[])`,
    [personIds, includePersonalData],
  );
  const byId = new Map(rows.map((r) => [r.person_id, r]));
  const people: Person[] = [];
  for (const id of personIds) {
    const r = byId.get(id);
    if (!r) continue;
    const key =
      r.master_key_id && r.wrapped_key
        ? unwrapDataKey(deps.masterKeys, r.person_id, {
            masterKeyId: r.master_key_id,
            wrapped: r.wrapped_key,
          })
        : undefined;
    const partial = includePersonalData && access.namesOnly.has(r.person_id);
    const personal =
      key && r.personal_data && open(key, aadOf.personalData(r.person_id), r.personal_data);
    const portalId =
      !partial && key && r.portal_id && open(key, aadOf.external(r.person_id), r.portal_id);
    const data = personal ? PersonalData.decode(personal) : undefined;
    people.push({
      personId: r.person_id,
      kind: r.kind,
      schoolId: r.school_id,
      municipalityId: r.municipality_id,
      erased: r.erased,
      legalHold: r.legal_hold,
      personalData: data && partial ? namesOf(data) : data,
      portalConsent: r.portal_consent,
      portalId: portalId ? portalId.toString("utf8") : "",
      personalDataNamesOnly: partial,
      currentSchoolIds: access.currentSchools.get(r.person_id) ?? [],
    });
  }
  return people;
}

/** Ids of people registered at the school whose name has every part of the query. */
export async function searchPeople(
  deps: IdentityDeps,
  schoolId: string,
  query: string,
): Promise<string[]> {
  const tokens = nameTokens(deps.blindIndexKey, schoolId, query);
  if (tokens.length === 0) return [];
  const { rows } = await deps.store.pool.query<{ person_id: string }>(
    `SELECT person_id FROM person_name_index
     WHERE school_id = $1 AND token = ANY($2::bytea[])
     GROUP BY person_id HAVING count(DISTINCT token) = $3
     ORDER BY person_id LIMIT 200`,
    [schoolId, tokens, tokens.length],
  );
  return rows.map((r) => r.person_id);
}

/** Students linked to the guardian. */
export async function getGuardianChildren(
  deps: IdentityDeps,
  guardianId: string,
): Promise<string[]> {
  const { rows } = await deps.store.pool.query<{ student_id: string }>(
    "SELECT student_id FROM guardian_links WHERE guardian_id = $1 ORDER BY student_id",
    [guardianId],
  );
  return rows.map((r) => r.student_id);
}

/**
 * The schools a staff member works at now: the one that registered them first (while they
 * work there), then the others.
 */
export async function getStaffSchools(deps: IdentityDeps, personId: string): Promise<string[]> {
  const { rows } = await deps.store.pool.query<{ school_id: string }>(
    `SELECT s.school_id FROM staff_schools s
     LEFT JOIN people p ON p.person_id = s.person_id AND p.school_id = s.school_id
     WHERE s.person_id = $1 ORDER BY p.person_id IS NULL, s.school_id`,
    [personId],
  );
  return rows.map((r) => r.school_id);
}
