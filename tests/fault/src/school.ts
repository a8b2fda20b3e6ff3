// A small school through the services' gRPC APIs: class groups with pupils and a teacher,
// subjects with a conducted lesson each — one grades journal per (class group, subject).
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { promiseClient } from "@otmetka/service-kit";
import type { TestTokenIssuer } from "@otmetka/testing";

export const YEAR = { startYear: 2026 };

export interface Journal {
  schoolId: string;
  classGroupId: string;
  subjectId: string;
  lessonId: string;
  teacher: string;
  pupils: string[];
}

/** Retries while a service is still catching up with another's events (UNAVAILABLE etc.). */
export async function retry<T>(f: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
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

export async function setUpSchool(
  issuer: TestTokenIssuer,
  address: { identity: string; curriculum: string },
  size: { classes: number; subjects: number; pupils: number },
): Promise<Journal[]> {
  const creds = grpc.credentials.createInsecure();
  const identityClient = new IdentityServiceClient(address.identity, creds);
  const curriculumClient = new CurriculumServiceClient(address.curriculum, creds);
  const identity = promiseClient(identityClient);
  const curriculum = promiseClient(curriculumClient);
  try {
    const md = issuer.metadataFor(await issuer.sign({ roles: ["PLATFORM_ADMIN"] }));
    const cmd = () => randomUUID();
    const { municipalityId } = await identity.registerMunicipality(
      { commandId: cmd(), name: "Отказоустойчивый" },
      md,
    );
    const { schoolId } = await identity.registerSchool(
      {
        commandId: cmd(),
        municipalityId,
        name: "МОУ СОШ № 2",
        shortName: "СОШ 2",
        address: "ул. Мира, 2",
        timeZone: "",
        inn: "7707083893",
        ogrn: "1027700132195",
      },
      md,
    );
    const person = async (kind: number, familyName: string) =>
      (
        await identity.registerPerson(
          {
            commandId: cmd(),
            kind,
            schoolId,
            personalData: {
              familyName,
              givenName: "Анна",
              patronymic: "",
              birthDate: "2015-01-01",
              sex: 2,
              snils: "",
              contacts: [],
            },
          },
          md,
        )
      ).personId;
    const classes: { classGroupId: string; pupils: string[]; teacher: string }[] = [];
    for (let c = 0; c < size.classes; c++) {
      const { classGroupId } = await identity.openClassGroup(
        {
          commandId: cmd(),
          schoolId,
          academicYear: YEAR,
          gradeLevel: 5 + c,
          letter: "А",
          homeroomTeacherId: "",
        },
        md,
      );
      const teacher = await person(2, `Учитель${c}`);
      const pupils: string[] = [];
      for (let p = 0; p < size.pupils; p++) {
        const id = await person(1, `Ученица${c}-${p}`);
        await identity.enrollStudent(
          { commandId: cmd(), personId: id, classGroupId, effectiveDate: "2026-09-01" },
          md,
        );
        pupils.push(id);
      }
      classes.push({ classGroupId, pupils, teacher });
    }
    await retry(() =>
      curriculum.defineAcademicYear(
        {
          commandId: cmd(),
          schoolId,
          municipalityId,
          academicYear: YEAR,
          firstDay: "",
          lastDay: "",
          daysPerWeek: 5,
          timeZone: "",
        },
        md,
      ),
    );
    await retry(() =>
      curriculum.defineTermSystem(
        {
          commandId: cmd(),
          schoolId,
          academicYear: YEAR,
          gradeLevels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
          kind: 1,
          terms: [
            { number: 1, firstDay: "2026-09-01", lastDay: "2026-11-04" },
            { number: 2, firstDay: "2026-11-05", lastDay: "2027-01-11" },
            { number: 3, firstDay: "2027-01-12", lastDay: "2027-03-31" },
            { number: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
          ],
        },
        md,
      ),
    );
    const subjects: string[] = [];
    for (let s = 0; s < size.subjects; s++) {
      const { subjectId } = await curriculum.addSubject(
        {
          commandId: cmd(),
          schoolId: "",
          code: `F${s}`,
          name: `Предмет ${s}`,
          grading: 1,
          municipalityId: "",
        },
        md,
      );
      subjects.push(subjectId);
    }
    for (const c of classes) {
      for (const [s, subjectId] of subjects.entries()) {
        const at = {
          schoolId,
          academicYear: YEAR,
          teacherId: c.teacher,
          subjectId,
          classGroupId: c.classGroupId,
          subgroupId: "",
        };
        await retry(() => curriculum.assignTeacher({ commandId: cmd(), ...at }, md));
        await retry(() =>
          curriculum.addTimetableSlot(
            {
              commandId: cmd(),
              ...at,
              weekday: 1 + (s % 5),
              period: 1 + Math.floor(s / 5),
              room: `${c.classGroupId.slice(0, 6)}-${s}`,
              validFrom: "",
              validTo: "",
            },
            md,
          ),
        );
      }
    }
    await retry(() =>
      curriculum.generateLessons(
        {
          commandId: cmd(),
          schoolId,
          academicYear: YEAR,
          fromDate: "2026-09-07",
          toDate: "2026-09-13",
          classGroupIds: [],
        },
        md,
      ),
    );
    const journals: Journal[] = [];
    for (const c of classes) {
      const lessons = await retry(async () => {
        const r = await curriculum.listClassGroupLessons(
          {
            classGroupId: c.classGroupId,
            academicYear: YEAR,
            fromDate: "2026-09-07",
            toDate: "2026-09-13",
          },
          md,
        );
        if (r.lessons.length < subjects.length)
          throw Object.assign(new Error("lessons not generated yet"), { code: 14 });
        return r.lessons;
      });
      for (const subjectId of subjects) {
        const lesson = lessons.find((l) => l.subjectId === subjectId);
        if (!lesson) throw new Error(`no lesson of subject ${subjectId}`);
        await retry(() =>
          curriculum.conductLesson(
            {
              commandId: cmd(),
              schoolId,
              academicYear: YEAR,
              classGroupId: c.classGroupId,
              lessonId: lesson.lessonId,
              topic: "Тема",
              workProgrammeItemId: "",
              homework: "",
              homeworkDue: "",
              conductedBy: "",
            },
            md,
          ),
        );
        journals.push({ schoolId, subjectId, lessonId: lesson.lessonId, ...c });
      }
    }
    return journals;
  } finally {
    identityClient.close();
    curriculumClient.close();
  }
}
