import { type FeedEvent, feedEvent } from "./feed.js";

/*
 * A term of a small region as identity, curriculum and grades would publish it, in
 * recorded-time order, for the history benchmark (rebuild from sequence 1, as-of queries):
 * schools with class groups of pupils, five-point subjects, lessons on school days with
 * topics, attendance and marks, and a share of marks corrected days later — so the
 * recorded-time clock closes a day per school day and the snapshots have history.
 */
export interface SyntheticHistoryOptions {
  /** About this many events (lessons are added until reached). */
  events: number;
  schools?: number;
  classGroupsPerSchool?: number;
  pupilsPerClassGroup?: number;
  subjects?: number;
  /** Share of marks corrected 1-10 days later. */
  corrections?: number;
}

export interface SyntheticHistory {
  events: FeedEvent[];
  classGroups: string[];
  schools: string[];
  municipalities: string[];
  subjects: string[];
  /** The term's first and last day (term 1 of 2026). */
  firstDay: string;
  lastDay: string;
}

const YEAR = { startYear: 2026 };
const FIRST = Date.UTC(2026, 8, 1);
const DAY_MS = 86_400_000;
const TERM_DAYS = 56; // 2026-09-01 .. 2026-10-26
const dayOf = (n: number) => new Date(FIRST + n * DAY_MS).toISOString().slice(0, 10);
const at = (n: number, minute: number) =>
  new Date(FIRST + n * DAY_MS + 4 * 3_600_000 + minute * 60_000);

/** A small deterministic generator, so runs compare. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

export function syntheticHistory(o: SyntheticHistoryOptions): SyntheticHistory {
  const rnd = random(11);
  const nSchools = o.schools ?? 4;
  const perSchool = o.classGroupsPerSchool ?? 3;
  const nPupils = o.pupilsPerClassGroup ?? 25;
  const nSubjects = o.subjects ?? 4;
  const corrections = o.corrections ?? 0.03;
  const timed: { t: number; e: () => FeedEvent }[] = [];
  let order = 0;
  const add = (t: Date, e: () => FeedEvent) => timed.push({ t: t.getTime() + order++ * 1e-6, e });
  const setup = new Date(FIRST - 7 * DAY_MS);
  const municipalities = ["muni-a", "muni-b"];
  const subjects = Array.from({ length: nSubjects }, (_, i) => `subject-${i}`);
  for (const s of subjects)
    add(setup, () =>
      feedEvent(
        "curriculum",
        `subject-${s}`,
        "SubjectAdded",
        {
          subjectId: s,
          code: s.toUpperCase(),
          grading: 1,
          schoolId: "",
          municipalityId: "",
        },
        setup,
      ),
    );
  const schools: string[] = [];
  const classGroups: {
    cg: string;
    where: { schoolId: string; municipalityId: string };
    pupils: string[];
  }[] = [];
  for (let si = 0; si < nSchools; si++) {
    const schoolId = `school-${si}`;
    const where = {
      schoolId,
      municipalityId: municipalities[si % municipalities.length] as string,
    };
    schools.push(schoolId);
    add(setup, () =>
      feedEvent(
        "identity",
        schoolId,
        "SchoolRegistered",
        { ...where, timeZone: "Asia/Yekaterinburg" },
        setup,
      ),
    );
    add(setup, () =>
      feedEvent(
        "curriculum",
        `terms-${schoolId}`,
        "TermSystemDefined",
        {
          ...where,
          academicYear: YEAR,
          gradeLevels: [5],
          terms: [{ number: 1, firstDay: dayOf(0), lastDay: dayOf(TERM_DAYS - 1) }],
        },
        setup,
      ),
    );
    for (let ci = 0; ci < perSchool; ci++) {
      const cg = `${schoolId}-cg-${ci}`;
      const pupils = Array.from({ length: nPupils }, (_, pi) => `${cg}-p${pi}`);
      classGroups.push({ cg, where, pupils });
      add(setup, () =>
        feedEvent(
          "identity",
          cg,
          "ClassGroupOpened",
          {
            ...where,
            classGroupId: cg,
            academicYear: YEAR,
            gradeLevel: 5,
            letter: String.fromCharCode(1040 + ci),
          },
          setup,
        ),
      );
      for (const p of pupils)
        add(setup, () =>
          feedEvent(
            "identity",
            p,
            "StudentEnrolled",
            {
              ...where,
              personId: p,
              classGroupId: cg,
              academicYear: YEAR,
              gradeLevel: 5,
              effectiveDate: dayOf(0),
            },
            setup,
          ),
        );
    }
  }
  // Lessons round-robin over class groups, subjects and school days until the size is reached.
  let events = timed.length;
  let lessonNo = 0;
  while (events < o.events) {
    const c = classGroups[lessonNo % classGroups.length];
    const subject = subjects[Math.floor(lessonNo / classGroups.length) % subjects.length] as string;
    if (!c) break;
    const day = Math.floor(lessonNo / (classGroups.length * subjects.length)) % TERM_DAYS;
    const lessonId = `lesson-${lessonNo}`;
    const date = dayOf(day);
    const journal = {
      journalId: `journal-${c.cg}-${subject}`,
      ...c.where,
      academicYear: YEAR,
      classGroupId: c.cg,
      subgroupId: "",
      subjectId: subject,
    };
    const ref = {
      lessonId,
      academicYear: YEAR,
      classGroupId: c.cg,
      subgroupId: "",
      subjectId: subject,
      date,
      period: 1 + (lessonNo % 6),
    };
    const where = c.where;
    add(setup, () =>
      feedEvent(
        "curriculum",
        lessonId,
        "LessonScheduled",
        { ...where, ...ref, teacherId: "t", term: 1 },
        setup,
      ),
    );
    const conducted = at(day, 10);
    add(conducted, () =>
      feedEvent(
        "curriculum",
        lessonId,
        "LessonConducted",
        { ...where, ...ref, topic: `Topic ${lessonNo}` },
        conducted,
      ),
    );
    const absent = c.pupils.filter(() => rnd() < 0.06);
    const attendance = at(day, 11);
    add(attendance, () =>
      feedEvent(
        "grades",
        journal.journalId,
        "AttendanceRecorded",
        {
          ...where,
          journal,
          lessonId,
          lessonDate: date,
          term: 1,
          entries: absent.map((studentId) => ({ studentId, reason: 1 + Math.floor(rnd() * 3) })),
          authorId: "t",
        },
        attendance,
      ),
    );
    events += 3;
    const marked = c.pupils.filter((p) => !absent.includes(p) && rnd() < 0.2);
    marked.forEach((studentId, k) => {
      const markId = `${lessonId}-m${k}`;
      const value = 2 + Math.floor(rnd() * 4);
      const weight = rnd() < 0.2 ? 2 : 1;
      const t = at(day, 12 + k);
      add(t, () =>
        feedEvent(
          "grades",
          journal.journalId,
          "MarkRecorded",
          {
            ...where,
            journal,
            markId,
            lessonId,
            lessonDate: date,
            term: 1,
            studentId,
            value,
            workType: weight === 2 ? "CONTROL" : "ORAL",
            weight,
            authorId: "t",
          },
          t,
        ),
      );
      events++;
      if (rnd() < corrections) {
        const later = at(day + 1 + Math.floor(rnd() * 10), 30 + k);
        add(later, () =>
          feedEvent(
            "grades",
            journal.journalId,
            "MarkCorrected",
            {
              ...where,
              journal,
              markId,
              studentId,
              value: value === 5 ? 4 : value + 1,
              reason: "typo",
              authorId: "t",
            },
            later,
          ),
        );
        events++;
      }
    });
    lessonNo++;
  }
  // In recorded-time order, as the services would have published them (each stream's
  // versions are numbered in this order by feedEvent).
  timed.sort((a, b) => a.t - b.t);
  return {
    events: timed.map((x) => x.e()),
    classGroups: classGroups.map((c) => c.cg),
    schools,
    municipalities,
    subjects,
    firstDay: dayOf(0),
    lastDay: dayOf(TERM_DAYS - 1),
  };
}
