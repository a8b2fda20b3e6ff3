// The pure part of the demo region: everything derived from the options and the seed, with no
// I/O, so the same options always give the same region (tested in plan.unit.test.mjs).
import { createHash } from "node:crypto";
import {
  FAMILY,
  FEMALE_GIVEN,
  MALE_GIVEN,
  MUNICIPALITIES,
  PATRONYMIC_STEMS,
  STREETS,
} from "./names.mjs";

export const SUBJECTS = [
  { code: "MATH", name: "Математика", hours: 4 },
  { code: "RUS", name: "Русский язык", hours: 4 },
  { code: "LIT", name: "Литература", hours: 3 },
  { code: "HIST", name: "История", hours: 2 },
];
export const YEAR = { startYear: 2026 };
export const FIRST_MONDAY = "2026-09-07";
/** The Monday of the week in which term 1 ends (Wednesday 4 November). */
const TERM1_LAST_MONDAY = "2026-11-02";
export const TERMS = [
  { number: 1, firstDay: "2026-09-01", lastDay: "2026-11-04" },
  { number: 2, firstDay: "2026-11-05", lastDay: "2027-01-11" },
  { number: 3, firstDay: "2027-01-12", lastDay: "2027-03-31" },
  { number: 4, firstDay: "2027-04-01", lastDay: "2027-05-31" },
];

export const DEFAULTS = {
  municipalities: 2,
  schools: 6,
  classes: 2,
  pupilsPerClass: 0,
  weeks: 4,
  seed: 1,
  concurrency: 3,
};

/**
 * The seeded weeks are the last weeks of term 1 (so the demo has a closed term with term
 * marks, and the current term is the second); more than the term's nine weeks start on
 * 7 September and run on into term 2.
 */
export function seededWeeks(weeks) {
  const back = addDays(TERM1_LAST_MONDAY, -7 * (weeks - 1));
  const from = back < FIRST_MONDAY ? FIRST_MONDAY : back;
  return { from, to: addDays(from, 7 * weeks - 1) };
}

/** Terms whose last day falls within the seeded days: they get term marks and are closed. */
export function termsToClose(weeks) {
  const { from, to } = seededWeeks(weeks);
  return TERMS.filter((t) => t.lastDay >= from && t.lastDay <= to).map((t) => t.number);
}

/** The term a day belongs to (0 outside every term). */
export function termOf(day) {
  return TERMS.find((t) => t.firstDay <= day && day <= t.lastDay)?.number ?? 0;
}

/** A teacher's term mark: the mean of the pupil's marks rounded half up (3.5 → 4). */
export function termMark(values) {
  if (values.length === 0) return 0;
  return Math.floor(values.reduce((a, b) => a + b, 0) / values.length + 0.5);
}

/**
 * What happens to one recorded mark afterwards: most stay, a few are corrected (the teacher
 * slipped by one point) and fewer revoked (put against the wrong pupil), each with a reason.
 */
export function markFate(r, value, profile) {
  const x = r.next();
  if (x < profile.corrections)
    return {
      kind: "correct",
      value: value === 5 ? 4 : value + 1,
      reason: "Ошибка при выставлении отметки",
    };
  if (x < profile.corrections + profile.revocations)
    return { kind: "revoke", reason: "Отметка выставлена не тому ученику" };
  return { kind: "keep" };
}

/** Parses `--name value` pairs; unknown names or non-positive numbers are refused by name. */
export function parseOptions(argv) {
  const o = { ...DEFAULTS };
  const keys = {
    "--municipalities": "municipalities",
    "--schools": "schools",
    "--classes": "classes",
    "--pupils-per-class": "pupilsPerClass",
    "--weeks": "weeks",
    "--seed": "seed",
    "--concurrency": "concurrency",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = keys[argv[i]];
    if (!key)
      throw new Error(`${argv[i]}: unknown option (known: ${Object.keys(keys).join(", ")})`);
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 0 || (n === 0 && key !== "pupilsPerClass"))
      throw new Error(`${argv[i]}: must be a positive integer, got ${argv[i + 1]}`);
    o[key] = n;
  }
  if (o.pupilsPerClass > 40) throw new Error("--pupils-per-class: at most 40");
  if (o.classes > 7) throw new Error("--classes: at most 7 (grades 5-11)");
  if (o.schools < o.municipalities) throw new Error("--schools: at least one per municipality");
  if (o.concurrency > 64) throw new Error("--concurrency: at most 64 schools at once");
  return o;
}

/** mulberry32: a small, fast, seedable PRNG (Math.random cannot be seeded). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

/** A UUID made from a key, so re-running the seed replays the same commands (idempotent). */
export function commandId(seed, key) {
  const h = createHash("sha256").update(`${seed}:${key}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A 10-digit legal-entity INN with a valid check digit. */
export function inn(n) {
  const d = `74${String(n).padStart(7, "0")}`.split("").map(Number);
  const w = [2, 4, 10, 3, 5, 9, 4, 6, 8];
  return d.join("") + String((d.reduce((s, x, i) => s + x * w[i], 0) % 11) % 10);
}

/** A 13-digit OGRN with a valid check digit. */
export function ogrn(n) {
  const body = `102740${String(n).padStart(6, "0")}`;
  return body + String(Number(BigInt(body) % 11n) % 10);
}

function person(r, sex, birthYear) {
  const male = sex === 1;
  const fam = r.pick(FAMILY);
  const stem = r.pick(PATRONYMIC_STEMS);
  return {
    familyName: male ? fam : `${fam}а`,
    givenName: r.pick(male ? MALE_GIVEN : FEMALE_GIVEN),
    patronymic: male ? `${stem}ич` : `${stem}на`,
    birthDate: `${birthYear}-${String(r.int(1, 12)).padStart(2, "0")}-${String(r.int(1, 28)).padStart(2, "0")}`,
    sex,
    snils: "",
    contacts: [],
  };
}

/**
 * The region: municipalities with schools; per school an admin, one teacher per subject,
 * class groups from grade 5 up with pupils (15-30 unless fixed) and a guardian each, and a
 * profile (mark distribution, absence rate) that differs by school.
 */
export function planRegion(o) {
  const r = rng(o.seed);
  const municipalities = Array.from({ length: o.municipalities }, (_, i) => ({
    key: `m${i + 1}`,
    name: i < MUNICIPALITIES.length ? MUNICIPALITIES[i] : `Муниципальный округ № ${i + 1}`,
    schools: [],
  }));
  for (let s = 0; s < o.schools; s++) {
    const m = municipalities[s % o.municipalities];
    const number = m.schools.length + 1;
    // Share of marks 2..5: strong schools lean to 5, weak ones to 3.
    const strength = r.next();
    const marks = [
      0.05 + 0.1 * (1 - strength),
      0.2 + 0.2 * (1 - strength),
      0.4,
      0.15 + 0.35 * strength,
    ];
    const school = {
      key: `${m.key}s${number}`,
      name: `МОУ «Средняя общеобразовательная школа № ${number}»`,
      shortName: `СОШ № ${number}`,
      address: `${r.pick(STREETS)}, ${r.int(1, 120)}`,
      inn: inn(s + 1),
      ogrn: ogrn(s + 1),
      // Strong schools also slip less: corrections 1-5 % of marks, revocations 0.5-1.5 %.
      profile: {
        marks,
        absence: 0.03 + 0.07 * r.next(),
        markShare: 0.25 + 0.15 * r.next(),
        corrections: 0.01 + 0.04 * (1 - strength),
        revocations: 0.005 + 0.01 * r.next(),
      },
      admin: person(r, r.int(1, 2), r.int(1965, 1985)),
      teachers: SUBJECTS.map((subject) => ({
        subject: subject.code,
        data: person(r, r.int(1, 2), r.int(1960, 1995)),
      })),
      classes: [],
    };
    for (let c = 0; c < o.classes; c++) {
      const grade = 5 + c;
      const size = o.pupilsPerClass || r.int(15, 30);
      school.classes.push({
        key: `${school.key}c${grade}`,
        grade,
        letter: "А",
        pupils: Array.from({ length: size }, () => {
          const sex = r.int(1, 2);
          const pupil = person(r, sex, 2026 - grade - 6);
          const guardian = person(r, r.int(1, 2), r.int(1975, 1992));
          // The child carries the family name of the guardian (in its own gender).
          const base = guardian.familyName.replace(/а$/, "");
          pupil.familyName = sex === 1 ? base : `${base}а`;
          return { pupil, guardian };
        }),
      });
    }
    m.schools.push(school);
  }
  return { municipalities };
}

/** Weekly slots of one class group: (weekday, period) per subject hour, none taken twice. */
export function timetableFor(classIndex) {
  const slots = [];
  // 30 cells (5 days × 6 periods); a class's 13 hours take consecutive cells. Each class is
  // shifted by 4 cells (the most hours of a subject), so one subject's teacher is never in two
  // classes in the same cell.
  let cell = 4 * classIndex;
  for (const subject of SUBJECTS) {
    for (let h = 0; h < subject.hours; h++) {
      const c = cell % 30;
      slots.push({ subject: subject.code, weekday: (c % 5) + 1, period: Math.floor(c / 5) + 1 });
      cell++;
    }
  }
  return slots;
}

/** Draws a mark 2..5 from a school's distribution. */
export function drawMark(r, dist) {
  let x = r.next() * dist.reduce((a, b) => a + b, 0);
  for (let i = 0; i < dist.length; i++) {
    x -= dist[i];
    if (x < 0) return i + 2;
  }
  return 5;
}

export function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * One GraphQL query per demo role that the role is allowed to run, over the region's first
 * municipality, school, class group and pupil (`ids`), for the printed logins.
 */
export function exampleQuery(role, ids = {}, weeks = DEFAULTS.weeks) {
  const { from, to } = seededWeeks(weeks);
  // The year named: the default is the current one, which the demo's may not be.
  const range = `period: { academicYear: ${YEAR.startYear}, from: "${from}", to: "${to}" }`;
  const figures = "name pupilCount { value } averageMark { value } attendanceRate { value }";
  switch (role) {
    case "PLATFORM_ADMIN":
      return "{ region { name municipalities { name schools { name } } } }";
    case "MINISTRY_OFFICER":
      return `{ dashboard(scope: { regionId: "${ids.regionId}" }, ${range}) { ${figures} children { name } } }`;
    case "MUNICIPAL_OFFICER":
      return `{ dashboard(scope: { municipalityId: "${ids.municipalityId}" }, ${range}) { ${figures} children { name } } }`;
    case "SCHOOL_ADMIN":
      return `{ dashboard(scope: { schoolId: "${ids.schoolId}" }, period: { academicYear: ${YEAR.startYear}, term: 1 }) { ${figures} } }`;
    case "TEACHER":
      return `{ journal(classGroupId: "${ids.classGroupId}", subjectId: "${ids.subjectId}", termId: "${YEAR.startYear}:1") { lessons { date topic } rows { pupil { name } weightedAverage } } }`;
    case "STUDENT":
    case "GUARDIAN":
      return `{ diary(studentId: "${ids.pupilId}", from: "${from}", to: "${to}") { lessons { date topic homework } marks { date value } } }`;
    default:
      throw new Error(`no example query for role ${role}`);
  }
}
