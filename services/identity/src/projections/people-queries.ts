import type { Person } from "@otmetka/proto/identity/v1/identity_service";
import type { IdentityDeps } from "../commands/deps.js";
import { decryptOptional, decryptPersonalData } from "../commands/people.js";
import { nameTokens } from "../crypto/blind-index.js";

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
}

/** People by id, in the order asked (unknown ids left out); personal data only on request. */
export async function getPeople(
  deps: IdentityDeps,
  personIds: string[],
  includePersonalData: boolean,
): Promise<Person[]> {
  if (personIds.length === 0) return [];
  const { rows } = await deps.store.pool.query<PersonRow>(
    `SELECT person_id, kind::int AS kind, school_id, municipality_id, personal_data, legal_hold, erased,
            portal_consent, portal_id
     FROM people WHERE person_id = ANY($1::uuid[])`,
    [personIds],
  );
  const byId = new Map(rows.map((r) => [r.person_id, r]));
  const people: Person[] = [];
  for (const id of personIds) {
    const r = byId.get(id);
    if (!r) continue;
    people.push({
      personId: r.person_id,
      kind: r.kind,
      schoolId: r.school_id,
      municipalityId: r.municipality_id,
      erased: r.erased,
      legalHold: r.legal_hold,
      personalData:
        includePersonalData && !r.erased
          ? await decryptPersonalData(deps, r.person_id, r.personal_data)
          : undefined,
      portalConsent: r.portal_consent,
      portalId:
        includePersonalData && !r.erased && r.portal_id
          ? ((await decryptOptional(deps, r.person_id, r.portal_id))?.toString("utf8") ?? "")
          : "",
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

/** The school that registered a staff member, then the schools they were assigned to. */
export async function getStaffSchools(deps: IdentityDeps, personId: string): Promise<string[]> {
  const { rows } = await deps.store.pool.query<{ school_id: string }>(
    `SELECT school_id FROM (
       SELECT school_id, 0 AS o FROM people WHERE person_id = $1 AND kind = 2
       UNION SELECT school_id, 1 AS o FROM staff_schools WHERE person_id = $1
     ) s ORDER BY o, school_id`,
    [personId],
  );
  return rows.map((r) => r.school_id);
}
