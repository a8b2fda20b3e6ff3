// A school set up through identity's and curriculum's gRPC APIs, as benches and end-to-end
// suites need one: a municipality and school, quarters, class groups with pupils and a
// teacher, subjects with a weekly slot and a conducted lesson. The caller passes the
// promise-wrapped generated clients: this package sits below @otmetka/proto in the build graph,
// so the calls are typed here by the fields these steps send and read.
import { randomUUID } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";

type Call<Req, Res> = (req: Req, metadata?: Metadata) => Promise<Res>;
type AcademicYear = { startYear: number };
type At = { commandId: string; schoolId: string; academicYear: AcademicYear };
type Strings<K extends string> = Record<K, string>;
type LessonField = "classGroupId" | "lessonId";
type SchoolRegistry = "timeZone" | "inn" | "ogrn";
type ConductOptional = "workProgrammeItemId" | "homeworkDue" | "conductedBy";

/** The identity calls the school set-up makes (a `promiseClient` of IdentityServiceClient). */
export interface SchoolIdentityCalls {
  registerMunicipality: Call<{ commandId: string; name: string }, { municipalityId: string }>;
  registerSchool: Call<
    Strings<"commandId" | "municipalityId" | "name" | "shortName" | "address" | SchoolRegistry>,
    { schoolId: string }
  >;
  registerPerson: Call<
    { commandId: string; kind: number; schoolId: string; personalData: PersonalData },
    { personId: string }
  >;
  openClassGroup: Call<
    At & { gradeLevel: number; letter: string; homeroomTeacherId: string },
    { classGroupId: string }
  >;
  enrollStudent: Call<
    { commandId: string; personId: string; classGroupId: string; effectiveDate: string },
    unknown
  >;
}

/** The curriculum calls the school set-up makes (a `promiseClient` of CurriculumServiceClient). */
export interface SchoolCurriculumCalls {
  defineAcademicYear: Call<
    At & {
      municipalityId: string;
      firstDay: string;
      lastDay: string;
      daysPerWeek: number;
      timeZone: string;
    },
    unknown
  >;
  defineTermSystem: Call<
    At & {
      gradeLevels: number[];
      kind: number;
      terms: { number: number; firstDay: string; lastDay: string }[];
    },
    unknown
  >;
  addSubject: Call<
    {
      commandId: string;
      schoolId: string;
      code: string;
      name: string;
      grading: number;
      municipalityId: string;
    },
    { subjectId: string }
  >;
  assignTeacher: Call<At & Assignment, unknown>;
  addTimetableSlot: Call<
    At &
      Assignment & {
        weekday: number;
        period: number;
        room: string;
        validFrom: string;
        validTo: string;
      },
    unknown
  >;
  generateLessons: Call<
    At & { fromDate: string; toDate: string; classGroupIds: string[] },
    unknown
  >;
  listClassGroupLessons: Call<
    { classGroupId: string; academicYear: AcademicYear; fromDate: string; toDate: string },
    { lessons: { lessonId: string; subjectId: string; status: number }[] }
  >;
  conductLesson: Call<At & Strings<LessonField | "topic" | "homework" | ConductOptional>, unknown>;
}

interface PersonalData {
  familyName: string;
  givenName: string;
  patronymic: string;
  birthDate: string;
  sex: number;
  snils: string;
  contacts: [];
}

interface Assignment {
  teacherId: string;
  subjectId: string;
  classGroupId: string;
  subgroupId: string;
}

/** The clients and the caller's metadata (a platform administrator's token). */
export interface SchoolApi {
  identity: SchoolIdentityCalls;
  curriculum: SchoolCurriculumCalls;
  metadata: Metadata;
}

export const SCHOOL_YEAR: AcademicYear = { startYear: 2026 };
/** The week the lessons are generated for (Monday to Sunday). */
export const FIRST_WEEK = { fromDate: "2026-09-07", toDate: "2026-09-13" };
// Proto enum values, as numbers (this package cannot import @otmetka/proto).
const PERSON_KIND_STUDENT = 1;
const PERSON_KIND_STAFF = 2;
const TERM_KIND_QUARTER = 1;
const GRADING_FIVE_POINT = 1;

/**
 * Retries while a service is still catching up with another's events: UNAVAILABLE, NOT_FOUND,
 * FAILED_PRECONDITION, DEADLINE_EXCEEDED; any other error is final.
 */
export async function retryWhileCatchingUp<T>(
  f: () => Promise<T>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (Date.now() > deadline || (code !== 14 && code !== 5 && code !== 9 && code !== 4))
        throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const retry = retryWhileCatchingUp;
const cmd = () => randomUUID();

/** A municipality and one school in it. */
export async function registerSchool(
  { identity, metadata }: SchoolApi,
  names: { municipality: string; school: string; shortName: string; address: string },
): Promise<{ municipalityId: string; schoolId: string }> {
  const { municipalityId } = await identity.registerMunicipality(
    { commandId: cmd(), name: names.municipality },
    metadata,
  );
  const { schoolId } = await identity.registerSchool(
    {
      commandId: cmd(),
      municipalityId,
      name: names.school,
      shortName: names.shortName,
      address: names.address,
      timeZone: "",
      inn: "7707083893",
      ogrn: "1027700132195",
    },
    metadata,
  );
  return { municipalityId, schoolId };
}

/** A person of the school; `kind` is identity's PersonKind. */
export async function registerPerson(
  { identity, metadata }: SchoolApi,
  schoolId: string,
  kind: number,
  name: { familyName: string; givenName?: string; birthDate?: string; sex?: number },
): Promise<string> {
  const { personId } = await identity.registerPerson(
    {
      commandId: cmd(),
      kind,
      schoolId,
      personalData: {
        familyName: name.familyName,
        givenName: name.givenName ?? "Иван",
        patronymic: "",
        birthDate: name.birthDate ?? "2015-01-01",
        sex: name.sex ?? 1,
        snils: "",
        contacts: [],
      },
    },
    metadata,
  );
  return personId;
}

/** The school's academic year and its quarters for the given grade levels. */
export async function defineQuarters(
  { curriculum, metadata }: SchoolApi,
  school: { municipalityId: string; schoolId: string },
  gradeLevels: number[],
): Promise<void> {
  const at = { schoolId: school.schoolId, academicYear: SCHOOL_YEAR };
  await retry(() =>
    curriculum.defineAcademicYear(
      {
        commandId: cmd(),
        ...at,
        municipalityId: school.municipalityId,
        firstDay: "",
        lastDay: "",
        daysPerWeek: 5,
        timeZone: "",
      },
      metadata,
    ),
  );
  const terms = [
    { number: 1, firstDay: "2026-09-01", lastDay: "2026-11-04" },
    { number: 2, firstDay: "2026-11-05", lastDay: "2027-01-11" },
    { number: 3, firstDay: "2027-01-12", lastDay: "2027-03-31" },
    { number: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
  ];
  await retry(() =>
    curriculum.defineTermSystem(
      { commandId: cmd(), ...at, gradeLevels, kind: TERM_KIND_QUARTER, terms },
      metadata,
    ),
  );
}

/** A regional five-point subject (no school: every school may teach it). */
export async function addSubject(
  { curriculum, metadata }: SchoolApi,
  code: string,
  name: string,
): Promise<string> {
  const { subjectId } = await curriculum.addSubject(
    {
      commandId: cmd(),
      schoolId: "",
      code,
      name,
      grading: GRADING_FIVE_POINT,
      municipalityId: "",
    },
    metadata,
  );
  return subjectId;
}

/** Assigns the teacher to the subject in the class group and gives it a weekly slot. */
export async function scheduleSubject(
  { curriculum, metadata }: SchoolApi,
  schoolId: string,
  assignment: Omit<Assignment, "subgroupId">,
  slot: { weekday: number; period: number; room: string },
): Promise<void> {
  const at = { schoolId, academicYear: SCHOOL_YEAR, ...assignment, subgroupId: "" };
  await retry(() => curriculum.assignTeacher({ commandId: cmd(), ...at }, metadata));
  await retry(() =>
    curriculum.addTimetableSlot(
      { commandId: cmd(), ...at, ...slot, validFrom: "", validTo: "" },
      metadata,
    ),
  );
}

/** Generates every class group's lessons of FIRST_WEEK from the timetable. */
export async function generateFirstWeek(
  { curriculum, metadata }: SchoolApi,
  schoolId: string,
): Promise<void> {
  await retry(() =>
    curriculum.generateLessons(
      {
        commandId: cmd(),
        schoolId,
        academicYear: SCHOOL_YEAR,
        ...FIRST_WEEK,
        classGroupIds: [],
      },
      metadata,
    ),
  );
}

/** Marks a generated lesson conducted, with its topic and homework. */
export async function conductLesson(
  { curriculum, metadata }: SchoolApi,
  at: { schoolId: string; classGroupId: string; lessonId: string },
  content: { topic: string; homework?: string },
): Promise<void> {
  await retry(() =>
    curriculum.conductLesson(
      {
        commandId: cmd(),
        academicYear: SCHOOL_YEAR,
        ...at,
        topic: content.topic,
        workProgrammeItemId: "",
        homework: content.homework ?? "",
        homeworkDue: "",
        conductedBy: "",
      },
      metadata,
    ),
  );
}

/** One grades journal: a (class group, subject) with its teacher, pupils and a conducted lesson. */
export interface SchoolJournal {
  schoolId: string;
  classGroupId: string;
  subjectId: string;
  lessonId: string;
  teacher: string;
  pupils: string[];
}

export interface SchoolSize {
  classes: number;
  subjects: number;
  /** Pupils in each class group. */
  pupils: number;
}

/**
 * A school of `size.classes` class groups (one teacher each, who teaches all its subjects) x
 * `size.subjects` subjects, each with one conducted lesson in FIRST_WEEK: a journal apiece.
 */
export async function setUpSchool(
  api: SchoolApi,
  size: SchoolSize,
  options: { municipality: string; log?: (msg: string) => void },
): Promise<{ municipalityId: string; schoolId: string; journals: SchoolJournal[] }> {
  const log = options.log ?? (() => undefined);
  const school = await registerSchool(api, {
    municipality: options.municipality,
    school: "МОУ СОШ № 1",
    shortName: "СОШ 1",
    address: "ул. Ленина, 1",
  });
  const { schoolId } = school;
  const classes: { classGroupId: string; pupils: string[]; teacher: string }[] = [];
  for (let c = 0; c < size.classes; c++) {
    const { classGroupId } = await api.identity.openClassGroup(
      {
        commandId: cmd(),
        schoolId,
        academicYear: SCHOOL_YEAR,
        gradeLevel: 1 + (c % 11),
        letter: String.fromCharCode(0x410 + Math.floor(c / 11)),
        homeroomTeacherId: "",
      },
      api.metadata,
    );
    const teacher = await registerPerson(api, schoolId, PERSON_KIND_STAFF, {
      familyName: `Учитель${c}`,
    });
    const pupils: string[] = [];
    for (let p = 0; p < size.pupils; p++) {
      const id = await registerPerson(api, schoolId, PERSON_KIND_STUDENT, {
        familyName: `Ученик${c}-${p}`,
      });
      await api.identity.enrollStudent(
        { commandId: cmd(), personId: id, classGroupId, effectiveDate: "2026-09-01" },
        api.metadata,
      );
      pupils.push(id);
    }
    classes.push({ classGroupId, pupils, teacher });
  }
  log(`identity: ${size.classes} class groups, ${size.classes * size.pupils} pupils`);
  await defineQuarters(api, school, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const subjects: string[] = [];
  for (let s = 0; s < size.subjects; s++)
    subjects.push(await addSubject(api, `S${s}`, `Предмет ${s}`));
  for (const c of classes) {
    for (const [s, subjectId] of subjects.entries()) {
      // One room per class group: its subjects take different periods.
      const slot = {
        weekday: 1 + (s % 5),
        period: 1 + Math.floor(s / 5),
        room: c.classGroupId.slice(0, 8),
      };
      await scheduleSubject(
        api,
        schoolId,
        { teacherId: c.teacher, subjectId, classGroupId: c.classGroupId },
        slot,
      );
    }
  }
  await generateFirstWeek(api, schoolId);
  log("curriculum: subjects, assignments, timetable, lessons");
  const journals: SchoolJournal[] = [];
  for (const c of classes) {
    const lessons = await retry(async () => {
      const r = await api.curriculum.listClassGroupLessons(
        { classGroupId: c.classGroupId, academicYear: SCHOOL_YEAR, ...FIRST_WEEK },
        api.metadata,
      );
      // The lessons read model follows curriculum's own events: UNAVAILABLE until it has them.
      if (r.lessons.length < subjects.length)
        throw Object.assign(new Error("lessons not generated yet"), { code: 14 });
      return r.lessons;
    });
    for (const subjectId of subjects) {
      const lesson = lessons.find((l) => l.subjectId === subjectId);
      if (!lesson) throw new Error(`no lesson of subject ${subjectId}`);
      const at = { schoolId, classGroupId: c.classGroupId, lessonId: lesson.lessonId };
      await conductLesson(api, at, { topic: "Тема" });
      journals.push({ schoolId, subjectId, lessonId: lesson.lessonId, ...c });
    }
  }
  log(`${journals.length} journals with a conducted lesson`);
  return { ...school, journals };
}
