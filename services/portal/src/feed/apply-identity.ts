import { type Placement, regionToday, withPending } from "./enrollment.js";
import { holdErasureFence } from "./erasure-fence.js";
import { enqueue, markDirty } from "./outbox.js";
import { type FeedContext, num, str, yearOf } from "./projection.js";

const typeName = (t: string) => t.slice("identity.v1.".length);

export async function applyIdentity(f: FeedContext): Promise<void> {
  const { e, ctx, t } = f;
  const d = e.data;
  const time = new Date(e.time);
  switch (typeName(e.type)) {
    case "SchoolRegistered":
    case "SchoolRenamed":
    case "SchoolClosed": {
      const r = await ctx.query(
        `INSERT INTO ${t("schools")} (school_id, municipality_id, name, short_name, closed_on)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (school_id) DO UPDATE SET
           name = CASE WHEN $6 THEN EXCLUDED.name ELSE schools.name END,
           short_name = CASE WHEN $6 THEN EXCLUDED.short_name ELSE schools.short_name END,
           closed_on = CASE WHEN $7 THEN EXCLUDED.closed_on ELSE schools.closed_on END
         RETURNING *`,
        [
          str(d.schoolId),
          str(d.municipalityId),
          str(d.name),
          str(d.shortName),
          str(d.closedOn),
          "name" in d,
          "closedOn" in d,
        ],
      );
      const s = r.rows[0] as Record<string, string>;
      return enqueue(f.out, {
        type: "portal.v1.SchoolReference",
        key: s.school_id as string,
        schoolId: s.school_id as string,
        municipalityId: s.municipality_id as string,
        time,
        data: {
          schoolId: s.school_id,
          municipalityId: s.municipality_id,
          name: s.name,
          shortName: s.short_name,
          closedOn: s.closed_on,
        },
      });
    }
    case "ClassGroupOpened":
    case "ClassGroupRenamed":
    case "ClassGroupClosed": {
      const opened = e.type.endsWith("Opened");
      const r = opened
        ? await ctx.query(
            `INSERT INTO ${t("class_groups")} VALUES ($1, $2, $3, $4, $5, $6, false)
             ON CONFLICT (class_group_id) DO NOTHING RETURNING *`,
            [
              str(d.classGroupId),
              str(d.schoolId),
              str(d.municipalityId),
              yearOf(d.academicYear),
              num(d.gradeLevel),
              str(d.letter),
            ],
          )
        : await ctx.query(
            `UPDATE ${t("class_groups")} SET
               grade_level = CASE WHEN $2 THEN $3 ELSE grade_level END,
               letter = CASE WHEN $2 THEN $4 ELSE letter END,
               closed = closed OR $5
             WHERE class_group_id = $1 RETURNING *`,
            [
              str(d.classGroupId),
              e.type.endsWith("Renamed"),
              num(d.gradeLevel),
              str(d.letter),
              e.type.endsWith("Closed"),
            ],
          );
      const g = r.rows[0];
      if (!g) return;
      return enqueue(f.out, {
        type: "portal.v1.ClassGroupReference",
        key: String(g.class_group_id),
        schoolId: String(g.school_id),
        municipalityId: String(g.municipality_id),
        time,
        data: {
          classGroupId: g.class_group_id,
          schoolId: g.school_id,
          municipalityId: g.municipality_id,
          academicYear: g.academic_year,
          gradeLevel: g.grade_level,
          letter: g.letter,
          closed: g.closed,
        },
      });
    }
    case "StudentEnrolled":
    case "StudentTransferred": {
      const personId = str(d.personId);
      const placement: Placement = {
        from: str(d.effectiveDate),
        school_id: str(d.schoolId),
        municipality_id: str(d.municipalityId),
        academic_year: yearOf(d.academicYear),
      };
      // Recorded ahead of its date (next year's class, a transfer agreed for a later day): the
      // pupil stays where they are until then, and the publisher moves them on that day. Dirty
      // as any change (a re-check pending keeps its turn): the publisher, taking the entry,
      // leaves one due on the placement's day.
      if (placement.from > regionToday()) {
        const before = await lockPupil(f, personId);
        const pending = withPending(before?.pending ?? [], placement);
        await upsertPupil(f, personId, { pending: JSON.stringify(pending) });
        return markDirty(f.out, "pupil", personId, f.opts.debounceMs);
      }
      const { from: _from, ...now } = placement;
      await upsertPupil(f, personId, now);
      return markDirty(f.out, "pupil", personId, f.opts.debounceMs);
    }
    case "PortalIdAssigned": {
      const portalId = await f.opts.openPortalId(str(d.personId), str(d.portalId));
      if (portalId === null) return; // erased meanwhile: the key is gone
      await upsertPupil(f, str(d.personId), { portal_id: portalId });
      return markDirty(f.out, "pupil", str(d.personId), 0);
    }
    case "PortalConsentGranted":
      await upsertPupil(f, str(d.personId), { consent: true });
      return markDirty(f.out, "pupil", str(d.personId), 0);
    case "PortalConsentWithdrawn": {
      const before = await lockPupil(f, str(d.personId));
      await upsertPupil(f, str(d.personId), { consent: false });
      await f.out("DELETE FROM portal.dirty WHERE kind = 'pupil' AND key = $1", [str(d.personId)]);
      if (!before?.consent || !before.portal_id || !before.school_id) return;
      await ctx.query(`UPDATE ${t("pupils")} SET published_schools = '[]' WHERE person_id = $1`, [
        before.person_id,
      ]);
      // On every school subject that shows a snapshot (a transferred pupil has several), so the
      // latest message of each, what a backfill gives, is the withdrawal.
      const targets = new Map<string, [string, string]>();
      for (const [m, s] of [
        ...before.published_schools,
        [before.municipality_id ?? "_", before.school_id],
      ]) {
        targets.set(`${m}|${s}`, [m as string, s as string]);
      }
      for (const [m, s] of targets.values()) {
        await enqueue(f.out, {
          type: "portal.v1.PupilConsentWithdrawn",
          key: before.portal_id,
          schoolId: s,
          municipalityId: m,
          time,
          data: {
            portalId: before.portal_id,
            schoolId: before.school_id,
            municipalityId: before.municipality_id,
            withdrawnAt: time.toISOString(),
          },
        });
      }
      return;
    }
    case "PersonErased":
      return erasePupil(f, str(d.personId), time);
  }
}

interface PupilRow {
  person_id: string;
  portal_id: string | null;
  consent: boolean;
  erased: boolean;
  school_id: string | null;
  municipality_id: string | null;
  published_schools: [string, string][];
  pending: Placement[];
}

async function lockPupil(f: FeedContext, personId: string): Promise<PupilRow | undefined> {
  const r = await f.ctx.query(`SELECT * FROM ${f.t("pupils")} WHERE person_id = $1 FOR UPDATE`, [
    personId,
  ]);
  return r.rows[0] as PupilRow | undefined;
}

export async function upsertPupil(
  f: FeedContext,
  personId: string,
  set: Record<string, string | number | boolean>,
): Promise<void> {
  const cols = Object.keys(set);
  const values = Object.values(set);
  await f.ctx.query(
    `INSERT INTO ${f.t("pupils")} (person_id, ${cols.join(", ")}) VALUES ($1, ${cols.map((_, i) => `$${i + 2}`).join(", ")})
     ON CONFLICT (person_id) DO UPDATE SET ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(", ")}
     WHERE NOT pupils.erased`,
    [personId, ...values],
  );
}

/** Tombstone (with the purge of the pupil's earlier messages) and the pupil's rows deleted. */
async function erasePupil(f: FeedContext, personId: string, time: Date): Promise<void> {
  const { ctx, t } = f;
  // Grades batches in flight commit first (their rows are deleted below); later ones see `erased`.
  await holdErasureFence(ctx.query, ctx.schema);
  const before = await lockPupil(f, personId);
  for (const table of ["marks", "term_marks", "absences", "exemptions"]) {
    await ctx.query(`DELETE FROM ${t(table)} WHERE student_id = $1`, [personId]);
  }
  await f.out("DELETE FROM portal.dirty WHERE kind = 'pupil' AND key = $1", [personId]);
  await ctx.query(
    `INSERT INTO ${t("pupils")} (person_id, erased) VALUES ($1, true)
     ON CONFLICT (person_id) DO UPDATE SET erased = true, portal_id = NULL, consent = false`,
    [personId],
  );
  if (!before?.portal_id) return;
  await enqueue(f.out, {
    type: "portal.v1.PupilErased",
    key: before.portal_id,
    schoolId: before.school_id ?? "_",
    municipalityId: before.municipality_id ?? "_",
    time,
    data: { portalId: before.portal_id, erasedAt: time.toISOString() },
    purgeKey: before.portal_id,
  });
}
