import { expect, it } from "vitest";

// scripts/ is plain ESM without types: imported by a computed path so tsc does not resolve it.
const planPath = new URL("../../scripts/seed/plan.mjs", import.meta.url).href;
// biome-ignore lint/suspicious/noExplicitAny: untyped .mjs module
const plan: any = await import(planPath);

const options = { ...plan.DEFAULTS, municipalities: 2, schools: 3, classes: 2, seed: 42 };

it("the same options and seed give the same region; another seed gives another", () => {
  const a = plan.planRegion(options);
  expect(plan.planRegion(options)).toEqual(a);
  expect(plan.planRegion({ ...options, seed: 43 })).not.toEqual(a);
  const schools = a.municipalities.flatMap((m: { schools: unknown[] }) => m.schools);
  expect(schools).toHaveLength(3);
  for (const s of schools) {
    for (const c of s.classes) {
      expect(c.pupils.length).toBeGreaterThanOrEqual(15);
      expect(c.pupils.length).toBeLessThanOrEqual(30);
      for (const { pupil } of c.pupils) {
        expect(pupil.familyName).toMatch(/^[А-ЯЁ][а-яё]+$/);
        expect(pupil.patronymic).toMatch(pupil.sex === 1 ? /ич$/ : /на$/);
      }
    }
  }
});

it("command ids are UUIDs fixed by seed and key", () => {
  const id = plan.commandId(1, "school:m1s1");
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(plan.commandId(1, "school:m1s1")).toBe(id);
  expect(plan.commandId(2, "school:m1s1")).not.toBe(id);
});

it("INN and OGRN carry valid check digits; schools get distinct ones", () => {
  const w = [2, 4, 10, 3, 5, 9, 4, 6, 8];
  for (const n of [1, 2, 77, 900]) {
    const inn: string = plan.inn(n);
    const d = inn.split("").map(Number);
    expect(d[9]).toBe((w.reduce((s, x, i) => s + x * (d[i] as number), 0) % 11) % 10);
    const ogrn: string = plan.ogrn(n);
    expect(Number(ogrn[12])).toBe(Number(BigInt(ogrn.slice(0, 12)) % 11n) % 10);
  }
  expect(plan.inn(1)).not.toBe(plan.inn(2));
});

it("timetables: no class has two lessons in one cell, no teacher is in two classes at once", () => {
  const cells = new Set<string>();
  for (let c = 0; c < 7; c++) {
    const mine = new Set<string>();
    for (const s of plan.timetableFor(c)) {
      const cell = `${s.weekday}:${s.period}`;
      expect(mine.has(cell)).toBe(false);
      mine.add(cell);
      const teacherCell = `${s.subject}@${cell}`;
      expect(cells.has(teacherCell)).toBe(false);
      cells.add(teacherCell);
    }
  }
});

it("marks follow the school's distribution and bad options are refused by name", () => {
  const r = plan.rng(7);
  const counts: Record<number, number> = { 0: 0, 1: 0, 2: 0, 3: 0 };
  for (let i = 0; i < 4000; i++) {
    const k = plan.drawMark(r, [0, 0, 0.5, 0.5]) - 2;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  expect(counts[0]).toBe(0);
  expect(counts[1]).toBe(0);
  expect(counts[2]).toBeGreaterThan(1500);
  expect(counts[3]).toBeGreaterThan(1500);
  expect(() => plan.parseOptions(["--schools", "x"])).toThrow(/--schools/);
  expect(() => plan.parseOptions(["--bogus", "1"])).toThrow(/--bogus/);
  expect(plan.parseOptions(["--weeks", "2", "--seed", "9"])).toMatchObject({ weeks: 2, seed: 9 });
});

it("the seeded weeks end with term 1, whose marks are set and which is closed; longer runs start on 7 September", () => {
  expect(plan.seededWeeks(4)).toEqual({ from: "2026-10-12", to: "2026-11-08" });
  expect(plan.seededWeeks(1)).toEqual({ from: "2026-11-02", to: "2026-11-08" });
  expect(plan.seededWeeks(12)).toEqual({ from: "2026-09-07", to: "2026-11-29" });
  expect(plan.termsToClose(1)).toEqual([1]);
  expect(plan.termsToClose(12)).toEqual([1]);
  expect(plan.termOf("2026-11-04")).toBe(1);
  expect(plan.termOf("2026-11-05")).toBe(2);
  expect(plan.termMark([5, 4])).toBe(5);
  expect(plan.termMark([4, 4, 3])).toBe(4);
  expect(plan.termMark([3, 4, 3, 3])).toBe(3);
});

it("a few % of marks are corrected (by one point, with a reason) or revoked, more where the school is weaker", () => {
  const schools = plan
    .planRegion({ ...options, schools: 6, municipalities: 2 })
    .municipalities.flatMap((m: { schools: unknown[] }) => m.schools);
  const rates = new Set<number>();
  for (const s of schools) {
    const r = plan.rng(11);
    const fates = { keep: 0, correct: 0, revoke: 0 } as Record<string, number>;
    for (let i = 0; i < 20_000; i++) {
      const value = plan.drawMark(r, s.profile.marks);
      const fate = plan.markFate(r, value, s.profile);
      fates[fate.kind] = (fates[fate.kind] ?? 0) + 1;
      if (fate.kind === "correct") {
        expect(Math.abs(fate.value - value)).toBe(1);
        expect(fate.reason).not.toBe("");
      }
      if (fate.kind === "revoke") expect(fate.reason).not.toBe("");
    }
    const corrected = (fates.correct as number) / 20_000;
    expect(corrected).toBeGreaterThan(0.005);
    expect(corrected).toBeLessThan(0.06);
    expect((fates.revoke as number) / 20_000).toBeLessThan(0.02);
    expect(fates.revoke).toBeGreaterThan(0);
    rates.add(Math.round(corrected * 1000));
  }
  // Mark distributions and slip rates differ by school.
  expect(rates.size).toBeGreaterThan(1);
  const dists = new Set(
    schools.map((s: { profile: { marks: number[] } }) => s.profile.marks.join()),
  );
  expect(dists.size).toBe(schools.length);
});

it("every printed login comes with a query for its role naming the region's first ids", () => {
  const ids = {
    regionId: "74",
    municipalityId: "m-1",
    schoolId: "s-1",
    classGroupId: "c-1",
    subjectId: "sub-1",
    pupilId: "p-1",
  };
  const roles = [
    "PLATFORM_ADMIN",
    "MINISTRY_OFFICER",
    "MUNICIPAL_OFFICER",
    "SCHOOL_ADMIN",
    "TEACHER",
    "STUDENT",
    "GUARDIAN",
  ];
  const q = Object.fromEntries(roles.map((r) => [r, plan.exampleQuery(r, ids, 4)]));
  expect(q.MUNICIPAL_OFFICER).toContain('dashboard(scope: { municipalityId: "m-1" }');
  expect(q.MINISTRY_OFFICER).toContain('regionId: "74"');
  expect(q.SCHOOL_ADMIN).toContain('schoolId: "s-1"');
  expect(q.TEACHER).toContain('journal(classGroupId: "c-1", subjectId: "sub-1"');
  expect(q.GUARDIAN).toContain('diary(studentId: "p-1", from: "2026-10-12", to: "2026-11-08")');
  expect(() => plan.exampleQuery("PORTAL_SUBSCRIBER", ids, 4)).toThrow(/PORTAL_SUBSCRIBER/);
  expect(plan.parseOptions(["--concurrency", "8"]).concurrency).toBe(8);
  expect(() => plan.parseOptions(["--concurrency", "100"])).toThrow(/--concurrency/);
});
