import { enqueue, markDirty } from "./outbox.js";
import { type FeedContext, num, str, yearOf } from "./projection.js";
import { programmeSnapshot } from "./snapshots.js";

/** Work programmes (approved versions) and their delivery (conducted lessons on their items). */
export async function applyCurriculum(f: FeedContext): Promise<void> {
  const { e, ctx, t } = f;
  const d = e.data;
  switch (e.type.slice("curriculum.v1.".length)) {
    case "WorkProgrammeDrafted":
      await ctx.query(
        `INSERT INTO ${t("programme_versions")} VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [str(d.programmeId), num(d.version), JSON.stringify(d.items ?? [])],
      );
      return;
    case "WorkProgrammeApproved": {
      const prior = await ctx.query(
        `SELECT version FROM ${t("programmes")} WHERE programme_id = $1`,
        [str(d.programmeId)],
      );
      await ctx.query(
        `INSERT INTO ${t("programmes")} VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (programme_id) DO UPDATE SET version = EXCLUDED.version`,
        [
          str(d.programmeId),
          str(d.schoolId),
          str(d.municipalityId),
          yearOf(d.academicYear),
          str(d.subjectId),
          num(d.gradeLevel),
          num(d.version),
        ],
      );
      const data = await programmeSnapshot(ctx.query, ctx.schema, str(d.programmeId));
      if (!data) return;
      await f.out("DELETE FROM portal.dirty WHERE kind = 'programme' AND key = $1", [
        str(d.programmeId),
      ]);
      return enqueue(f.out, {
        type:
          prior.rows.length === 0
            ? "portal.v1.WorkProgrammePublished"
            : "portal.v1.WorkProgrammeRevised",
        key: data.programmeId,
        schoolId: data.schoolId,
        municipalityId: data.municipalityId,
        time: new Date(e.time),
        data,
      });
    }
    case "LessonConducted": {
      const item = str(d.workProgrammeItemId);
      if (!item) return;
      const group = await ctx.query(
        `SELECT grade_level FROM ${t("class_groups")} WHERE class_group_id = $1`,
        [str(d.classGroupId)],
      );
      const grade = group.rows[0]?.grade_level;
      if (grade === undefined) return; // class group not seen: documented gap
      const key = [str(d.schoolId), yearOf(d.academicYear), str(d.subjectId), grade] as const;
      await ctx.query(
        `INSERT INTO ${t("delivery")} VALUES ($1, $2, $3, $4, $5, 1)
         ON CONFLICT (school_id, academic_year, subject_id, grade_level, item_id)
         DO UPDATE SET lessons = delivery.lessons + 1`,
        [...key, item],
      );
      const programmes = await ctx.query(
        `SELECT programme_id FROM ${t("programmes")}
         WHERE school_id = $1 AND academic_year = $2 AND subject_id = $3 AND grade_level = $4`,
        [...key],
      );
      for (const p of programmes.rows) {
        await markDirty(f.out, "programme", String(p.programme_id), f.opts.debounceMs);
      }
      return;
    }
  }
}
