import type { Queryable } from "@otmetka/eventstore";
import type { Municipality, School } from "@otmetka/proto/identity/v1/identity_service";

export async function listMunicipalities(db: Queryable): Promise<Municipality[]> {
  const { rows } = await db.query<{ municipality_id: string; name: string }>(
    "SELECT municipality_id, name FROM municipalities ORDER BY name, municipality_id",
  );
  return rows.map((r) => ({ municipalityId: r.municipality_id, name: r.name }));
}

interface SchoolRow {
  school_id: string;
  municipality_id: string;
  name: string;
  short_name: string;
  address: string;
  time_zone: string;
  inn: string;
  ogrn: string;
  closed_on: string | null;
}

/** Schools by id (unknown ids are left out), or of a municipality, or all. */
export async function getSchools(
  db: Queryable,
  filter: { schoolIds: string[]; municipalityId: string },
): Promise<School[]> {
  const { rows } = await db.query<SchoolRow>(
    `SELECT school_id, municipality_id, name, short_name, address, time_zone, inn, ogrn,
            to_char(closed_on, 'YYYY-MM-DD') AS closed_on
     FROM schools
     WHERE ($1::uuid[] IS NULL OR school_id = ANY($1::uuid[]))
       AND ($2::uuid IS NULL OR municipality_id = $2::uuid)
     ORDER BY name, school_id`,
    [filter.schoolIds.length > 0 ? filter.schoolIds : null, filter.municipalityId || null],
  );
  return rows.map((r) => ({
    schoolId: r.school_id,
    municipalityId: r.municipality_id,
    name: r.name,
    shortName: r.short_name,
    address: r.address,
    timeZone: r.time_zone,
    inn: r.inn,
    ogrn: r.ogrn,
    closedOn: r.closed_on ?? "",
  }));
}
