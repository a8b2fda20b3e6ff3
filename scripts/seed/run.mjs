// Writes the planned demo region through the services' gRPC APIs: identity (organisations,
// people, class groups, enrolment, guardians, accounts and grants), curriculum (calendar,
// subjects, study plans, assignments, timetable, lessons, topics) and grades (attendance and
// marks as each subject's teacher). Command ids derive from the seed, so a re-run replays.
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { GradesServiceClient } from "@otmetka/proto/grades/v1/grades_service";
import { promiseClient } from "@otmetka/service-kit";
import { adminToken, bearer, identityClients } from "../platform/identity.mjs";
import { layout } from "../platform/layout.mjs";
import { TOPICS } from "./names.mjs";
import {
  commandId,
  DEFAULTS,
  drawMark,
  exampleQuery,
  markFate,
  planRegion,
  rng,
  SUBJECTS,
  seededWeeks,
  TERMS,
  termMark,
  termOf,
  termsToClose,
  timetableFor,
  YEAR,
} from "./plan.mjs";

const STAFF = 2;
const STUDENT = 1;
const GUARDIAN = 3;
const TERM_KIND_QUARTER = 1;
const GRADING_FIVE_POINT = 1;
const LESSON_SCHEDULED = 1;
const REASONS = [2, 2, 3, 4]; // illness twice as often as the others

/** Retries what may still be on its way (UNAVAILABLE, NOT_FOUND, FAILED_PRECONDITION while replicas catch up). */
async function eventually(fn, timeoutMs = 120_000, retry = [14, 5]) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline || !retry.includes(err.code)) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Errors name the RPC they came from, so a failed seed says which call failed. */
function named(client, service) {
  return new Proxy(client, {
    get:
      (target, method) =>
      async (...args) => {
        try {
          return await target[method](...args);
        } catch (err) {
          err.details = `${service}.${String(method)}: ${err.details ?? err.message}`;
          throw err;
        }
      },
  });
}

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export async function runSeed({ secrets, save, options = DEFAULTS, log = console.log }) {
  const o = { ...DEFAULTS, ...options };
  if (!secrets.DEMO_PASSWORD) {
    secrets.DEMO_PASSWORD = randomBytes(12).toString("base64url");
    save(secrets);
  }
  const plan = planRegion(o);
  const creds = grpc.credentials.createInsecure();
  const ids = identityClients();
  const curriculumClient = new CurriculumServiceClient(
    process.env.CURRICULUM_GRPC_ADDRESS ?? layout.addresses.CURRICULUM_GRPC_ADDRESS,
    creds,
  );
  const gradesClient = new GradesServiceClient(
    process.env.GRADES_GRPC_ADDRESS ?? layout.addresses.GRADES_GRPC_ADDRESS,
    creds,
  );
  const curriculum = named(promiseClient(curriculumClient), "curriculum");
  const grades = named(promiseClient(gradesClient), "grades");
  const identity = named(ids.identity, "identity");
  const auth = named(ids.auth, "auth");
  const started = Date.now();
  const counts = {
    events: 0,
    people: 0,
    lessons: 0,
    marks: 0,
    absences: 0,
    corrections: 0,
    revocations: 0,
    exemptions: 0,
    termMarks: 0,
    closedJournals: 0,
  };
  const closing = termsToClose(o.weeks);
  const { from: fromDate, to: toDate } = seededWeeks(o.weeks);
  // The first municipality, school, class group and pupil: the printed logins' example queries.
  const firstIds = { regionId: process.env.GATEWAY_REGION_ID ?? "74", subjectId: "" };
  const progress = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    log(
      `seed: ${counts.events} events, ${counts.people} people, ${counts.lessons} lessons, ${counts.marks} marks (${Math.round(counts.events / s)} events/s)`,
    );
  }, 5000);
  const cmd = (key) => commandId(o.seed, key);
  // The regional subjects are one catalogue whatever the seed: their ids never depend on it.
  // Tokens last 10 minutes: log in again after 8.
  const sessions = new Map();
  const tokenOf = async (username, password) => {
    const s = sessions.get(username);
    if (s && Date.now() - s.at < 480_000) return s.md;
    const r = await auth.login({ username, password });
    const md = bearer(r.tokens.accessToken);
    sessions.set(username, { md, at: Date.now() });
    return md;
  };
  const admin = () => tokenOf("admin", secrets.IDENTITY_BOOTSTRAP_ADMIN_PASSWORD);
  const logins = [];
  const subjects = {};
  // Another seed is another region in the same platform: its usernames get a suffix.
  const uname = (u) => (o.seed === DEFAULTS.seed ? u : `${u}.s${o.seed}`);
  async function account(plain, personId, grant, role) {
    const username = uname(plain);
    try {
      const { accountId } = await auth.createAccount(
        { username, password: secrets.DEMO_PASSWORD, personId },
        await admin(),
      );
      await auth.grantRole(
        { commandId: cmd(`grant:${username}`), accountId, grant },
        await admin(),
      );
      counts.events += 2;
    } catch (err) {
      if (!/already taken/.test(err.details ?? "")) throw err; // a re-run: made and granted before
    }
    if (role) logins.push({ role, username, password: secrets.DEMO_PASSWORD });
  }
  try {
    await adminToken(auth, secrets);
    // A catalogue made by an earlier run (another seed) is used as it is.
    const { subjects: known } = await eventually(async () =>
      curriculum.listSubjects({ schoolId: "" }, await admin()),
    );
    for (const k of known) subjects[k.code] = k.subjectId;
    for (const s of SUBJECTS) {
      if (subjects[s.code]) continue;
      const r = await eventually(async () =>
        curriculum.addSubject(
          {
            commandId: commandId("regional-catalogue", `subject:${s.code}`),
            schoolId: "",
            code: s.code,
            name: s.name,
            grading: GRADING_FIVE_POINT,
            municipalityId: "",
          },
          await admin(),
        ),
      );
      subjects[s.code] = r.subjectId;
      counts.events++;
    }
    await account(
      "minister",
      "",
      {
        role: "MINISTRY_OFFICER",
        scopeKind: "region",
        scopeId: process.env.IDENTITY_REGION_ID ?? "74",
      },
      "MINISTRY_OFFICER",
    );
    const schools = [];
    for (const m of plan.municipalities) {
      const { municipalityId } = await identity.registerMunicipality(
        { commandId: cmd(`mun:${m.key}`), name: m.name },
        await admin(),
      );
      counts.events++;
      await account(
        `officer.${m.key}`,
        "",
        { role: "MUNICIPAL_OFFICER", scopeKind: "municipality", scopeId: municipalityId },
        m === plan.municipalities[0] ? "MUNICIPAL_OFFICER" : null,
      );
      firstIds.municipalityId ??= municipalityId;
      for (const s of m.schools) schools.push({ s, municipalityId, first: schools.length === 0 });
    }
    firstIds.subjectId = subjects[SUBJECTS[0].code];
    await pool(schools, o.concurrency, ({ s, municipalityId, first }) =>
      seedSchool(s, municipalityId, first),
    );
    const seconds = (Date.now() - started) / 1000;
    const summary = {
      ...counts,
      seconds: Math.round(seconds * 10) / 10,
      eventsPerSecond: Math.round(counts.events / seconds),
    };
    log(
      `seed done: ${schools.length} schools in ${plan.municipalities.length} municipalities, ${fromDate}..${toDate}; ${counts.people} people, ${counts.lessons} lessons, ${counts.marks} marks (${counts.corrections} corrected, ${counts.revocations} revoked), ${counts.absences} absences, ${counts.exemptions} exemptions, ${counts.termMarks} term marks, ${counts.closedJournals} journals closed for term ${closing.join(", ") || "-"}; ${counts.events} events in ${summary.seconds} s = ${summary.eventsPerSecond} events/s`,
    );
    for (const l of logins) l.query = exampleQuery(l.role, firstIds, o.weeks);
    // npm start prints the default region's logins; another seed's are printed here.
    if (o.seed === DEFAULTS.seed) {
      secrets.DEMO_LOGINS = logins;
      save(secrets);
    }
    for (const l of logins)
      log(`  ${l.role.padEnd(17)} ${l.username} / ${l.password}\n    ${l.query}`);
    return summary;
  } finally {
    clearInterval(progress);
    ids.close();
    curriculumClient.close();
    gradesClient.close();
  }

  async function seedSchool(s, municipalityId, first) {
    const r = rng(o.seed * 7919 + s.inn.charCodeAt(8));
    const A = await admin();
    const { schoolId } = await identity.registerSchool(
      {
        commandId: cmd(`school:${s.key}`),
        municipalityId,
        name: s.name,
        shortName: s.shortName,
        address: s.address,
        timeZone: "",
        inn: s.inn,
        ogrn: s.ogrn,
      },
      A,
    );
    counts.events++;
    if (first) firstIds.schoolId = schoolId;
    const register = async (key, kind, personalData) => {
      const { personId } = await identity.registerPerson(
        { commandId: cmd(`person:${key}`), kind, schoolId, personalData },
        await admin(),
      );
      counts.people++;
      counts.events++;
      return personId;
    };
    const adminId = await register(`${s.key}:admin`, STAFF, s.admin);
    await account(
      `admin.${s.key}`,
      adminId,
      { role: "SCHOOL_ADMIN", scopeKind: "school", scopeId: schoolId },
      first ? "SCHOOL_ADMIN" : null,
    );
    const teachers = {};
    for (const [i, t] of s.teachers.entries()) {
      const id = await register(`${s.key}:t${i}`, STAFF, t.data);
      const username = `teacher.${s.key}.${t.subject.toLowerCase()}`;
      await account(
        username,
        id,
        { role: "TEACHER", scopeKind: "school", scopeId: schoolId },
        first && i === 0 ? "TEACHER" : null,
      );
      teachers[t.subject] = { id, username: uname(username) };
    }
    // Curriculum: calendar and quarters for the school's grade levels, study plan hours.
    await eventually(async () =>
      curriculum.defineAcademicYear(
        {
          commandId: cmd(`year:${s.key}`),
          schoolId,
          municipalityId,
          academicYear: YEAR,
          firstDay: "",
          lastDay: "",
          daysPerWeek: 5,
          timeZone: "",
        },
        await admin(),
      ),
    );
    const gradeLevels = s.classes.map((c) => c.grade);
    await eventually(async () =>
      curriculum.defineTermSystem(
        {
          commandId: cmd(`terms:${s.key}`),
          schoolId,
          academicYear: YEAR,
          gradeLevels,
          kind: TERM_KIND_QUARTER,
          terms: TERMS,
        },
        await admin(),
      ),
    );
    counts.events += 2;
    for (const g of gradeLevels) {
      for (const sub of SUBJECTS) {
        await eventually(async () =>
          curriculum.setStudyPlanHours(
            {
              commandId: cmd(`plan:${s.key}:${g}:${sub.code}`),
              schoolId,
              academicYear: YEAR,
              gradeLevel: g,
              subjectId: subjects[sub.code],
              hoursPerWeek: sub.hours,
            },
            await admin(),
          ),
        );
        counts.events++;
      }
    }
    const classes = [];
    for (const [ci, c] of s.classes.entries()) {
      const { classGroupId } = await identity.openClassGroup(
        {
          commandId: cmd(`class:${c.key}`),
          schoolId,
          academicYear: YEAR,
          gradeLevel: c.grade,
          letter: c.letter,
          homeroomTeacherId: teachers[SUBJECTS[ci % SUBJECTS.length].code].id,
        },
        await admin(),
      );
      counts.events++;
      const pupils = [];
      for (const [pi, { pupil, guardian }] of c.pupils.entries()) {
        const pupilId = await register(`${c.key}:p${pi}`, STUDENT, pupil);
        const guardianId = await register(`${c.key}:g${pi}`, GUARDIAN, guardian);
        await identity.enrollStudent(
          {
            commandId: cmd(`enrol:${c.key}:${pi}`),
            personId: pupilId,
            classGroupId,
            effectiveDate: "2026-09-01",
          },
          await admin(),
        );
        await identity.linkGuardian(
          { commandId: cmd(`link:${c.key}:${pi}`), guardianId, studentId: pupilId },
          await admin(),
        );
        counts.events += 2;
        if (first && ci === 0 && pi === 0) {
          await account(
            `pupil.${c.key}.1`,
            pupilId,
            { role: "STUDENT", scopeKind: "", scopeId: "" },
            "STUDENT",
          );
          await account(
            `parent.${c.key}.1`,
            guardianId,
            { role: "GUARDIAN", scopeKind: "", scopeId: "" },
            "GUARDIAN",
          );
        }
        pupils.push(pupilId);
        if (first && ci === 0 && pi === 0) firstIds.pupilId = pupilId;
      }
      if (first && ci === 0) firstIds.classGroupId = classGroupId;
      for (const sub of SUBJECTS) {
        await eventually(async () =>
          curriculum.assignTeacher(
            {
              commandId: cmd(`assign:${c.key}:${sub.code}`),
              schoolId,
              academicYear: YEAR,
              teacherId: teachers[sub.code].id,
              subjectId: subjects[sub.code],
              classGroupId,
              subgroupId: "",
            },
            await admin(),
          ),
        );
        counts.events++;
      }
      for (const slot of timetableFor(ci)) {
        await eventually(async () =>
          curriculum.addTimetableSlot(
            {
              commandId: cmd(`slot:${c.key}:${slot.weekday}:${slot.period}`),
              schoolId,
              academicYear: YEAR,
              weekday: slot.weekday,
              period: slot.period,
              classGroupId,
              subgroupId: "",
              subjectId: subjects[slot.subject],
              teacherId: teachers[slot.subject].id,
              room: String(100 + ci),
              validFrom: "",
              validTo: "",
            },
            await admin(),
          ),
        );
        counts.events++;
      }
      classes.push({ c, classGroupId, pupils });
    }
    const gen = await eventually(async () =>
      curriculum.generateLessons(
        {
          commandId: cmd(`gen:${s.key}:${o.weeks}`),
          schoolId,
          academicYear: YEAR,
          fromDate,
          toDate,
          classGroupIds: [],
        },
        await admin(),
      ),
    );
    counts.events += gen.scheduled;
    const codeOf = Object.fromEntries(Object.entries(subjects).map(([code, id]) => [id, code]));
    for (const { c, classGroupId, pupils } of classes) {
      const expected = timetableFor(0).length * o.weeks;
      const lessons = await eventually(async () => {
        const { lessons } = await curriculum.listClassGroupLessons(
          { classGroupId, academicYear: YEAR, fromDate, toDate },
          await admin(),
        );
        if (lessons.length < expected)
          throw Object.assign(new Error(`${lessons.length} of ${expected} lessons`), { code: 14 });
        return lessons;
      });
      lessons.sort((a, b) => (a.date + a.period).localeCompare(b.date + b.period));
      const journalOf = (subjectId) => ({
        classGroupId,
        subgroupId: "",
        subjectId,
        academicYear: YEAR,
      });
      // Освобождение: one pupil of the class is exempt from one subject for the seeded weeks
      // (a medical certificate); they get no marks in it meanwhile.
      const exempt = { pupil: pupils[r.int(0, pupils.length - 1)], code: r.pick(SUBJECTS).code };
      await eventually(
        async () =>
          grades.grantExemption(
            {
              commandId: cmd(`exempt:${c.key}`),
              journal: journalOf(subjects[exempt.code]),
              studentId: exempt.pupil,
              firstDay: fromDate,
              lastDay: toDate,
              reason: `Справка № ${r.int(100, 999)} (освобождение по состоянию здоровья)`,
            },
            await admin(),
          ),
        120_000,
      );
      counts.exemptions++;
      counts.events++;
      // pupil → subject code → the values standing per closing term, for the term marks.
      const standing = new Map();
      const seen = {};
      for (const lesson of lessons) {
        const code = codeOf[lesson.subjectId];
        const n = (seen[code] ?? 0) + 1;
        seen[code] = n;
        // Drawn whether or not the lesson still needs conducting, so a re-run draws the same
        // marks and absences after it (the same command ids must carry the same commands).
        const exercise = r.int(1, 40);
        if (lesson.status === LESSON_SCHEDULED) {
          await curriculum.conductLesson(
            {
              commandId: cmd(`conduct:${lesson.lessonId}`),
              schoolId,
              academicYear: YEAR,
              classGroupId,
              lessonId: lesson.lessonId,
              topic: TOPICS[code][Math.floor((n - 1) / 2) % TOPICS[code].length],
              workProgrammeItemId: "",
              homework: `§ ${n}, упр. ${exercise}`,
              homeworkDue: "",
              conductedBy: "",
            },
            await admin(),
          );
          counts.events++;
        }
        counts.lessons++;
        const teacher = await tokenOf(teachers[code].username, secrets.DEMO_PASSWORD);
        const journal = journalOf(lesson.subjectId);
        const absences = [];
        for (const p of pupils) {
          const x = r.next();
          if (x < s.profile.absence)
            absences.push({ studentId: p, reason: REASONS[r.int(0, 3)], lateMinutes: 0 });
          else if (x < s.profile.absence + 0.02)
            absences.push({ studentId: p, reason: 1, lateMinutes: r.int(3, 20) });
        }
        await eventually(
          () =>
            grades.recordAttendance(
              {
                commandId: cmd(`att:${lesson.lessonId}`),
                journal,
                lessonId: lesson.lessonId,
                absences,
              },
              teacher,
            ),
          120_000,
        );
        counts.events++;
        counts.absences += absences.length;
        const absent = new Set(absences.filter((a) => a.reason !== 1).map((a) => a.studentId));
        const marks = pupils
          .filter(
            (p) =>
              !absent.has(p) &&
              r.next() < s.profile.markShare &&
              !(p === exempt.pupil && code === exempt.code),
          )
          .map((p) => ({
            studentId: p,
            value: drawMark(r, s.profile.marks),
            workType: r.next() < 0.8 ? "ORAL" : "TEST",
            comment: "",
          }));
        if (marks.length > 0) {
          const { markIds } = await eventually(
            () =>
              grades.recordMarks(
                {
                  commandId: cmd(`marks:${lesson.lessonId}`),
                  journal,
                  lessonId: lesson.lessonId,
                  marks,
                },
                teacher,
              ),
            120_000,
          );
          counts.events += marks.length;
          counts.marks += marks.length;
          const term = termOf(lesson.date);
          for (const [i, m] of marks.entries()) {
            const fate = markFate(r, m.value, s.profile);
            if (fate.kind !== "keep") {
              const fix = { commandId: cmd(`fix:${markIds[i]}`), journal, markId: markIds[i] };
              if (fate.kind === "correct")
                await grades.correctMark(
                  { ...fix, value: fate.value, reason: fate.reason },
                  teacher,
                );
              else await grades.revokeMark({ ...fix, reason: fate.reason }, teacher);
              counts[fate.kind === "correct" ? "corrections" : "revocations"]++;
              counts.events++;
            }
            if (!closing.includes(term) || fate.kind === "revoke") continue;
            const key = `${m.studentId}:${code}:${term}`;
            if (!standing.has(key)) standing.set(key, []);
            standing.get(key).push(fate.kind === "correct" ? fate.value : m.value);
          }
        }
      }
      // Term marks of the terms that end within the seeded weeks, set by each subject's teacher.
      for (const [key, values] of standing) {
        const [studentId, code, term] = key.split(":");
        await grades.setTermMark(
          {
            commandId: cmd(`term-mark:${classGroupId}:${key}`),
            journal: journalOf(subjects[code]),
            studentId,
            term: Number(term),
            value: termMark(values),
            reason: "",
          },
          await tokenOf(teachers[code].username, secrets.DEMO_PASSWORD),
        );
        counts.termMarks++;
        counts.events++;
      }
      log(
        `seed: ${s.shortName} (${s.key}) ${c.grade}${c.letter}: ${pupils.length} pupils, ${lessons.length} lessons`,
      );
    }
    // Then the school admin closes those terms in every journal of the school.
    for (const term of closing) {
      const closed = await grades.closeTerm(
        {
          commandId: cmd(`close:${s.key}:${term}`),
          journal: undefined,
          term,
          reason: `Окончание ${term}-й четверти`,
          schoolId,
          academicYear: YEAR,
        },
        await admin(),
      );
      counts.closedJournals += closed.journals + closed.unchanged;
      counts.events += closed.journals;
    }
  }
}
