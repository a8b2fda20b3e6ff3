import { describe, expect, it } from "vitest";
import { getSchools, listMunicipalities } from "../projections/organisation-queries.js";
import {
  cmd,
  expectRefused,
  givenSchool,
  useIdentity,
  VALID_INN,
  VALID_OGRN,
} from "../test-support/in-process.js";
import {
  closeSchool,
  registerMunicipality,
  registerSchool,
  renameMunicipality,
  renameSchool,
} from "./organisations.js";

const t = useIdentity("identity_orgs");

const schoolInput = (municipalityId: string) => ({
  commandId: cmd(),
  municipalityId,
  name: "МАОУ Лицей № 31",
  shortName: "Лицей 31",
  address: "ул. Энгельса, 1",
  timeZone: "",
  inn: VALID_INN,
  ogrn: VALID_OGRN,
});

describe("organisations", () => {
  it("registers a municipality and a school in Asia/Yekaterinburg by default", async () => {
    const { municipalityId, schoolId } = await givenSchool(t.deps);
    expect((await listMunicipalities(t.deps.store.pool)).map((m) => m.municipalityId)).toContain(
      municipalityId,
    );
    const [school] = await getSchools(t.deps.store.pool, {
      schoolIds: [schoolId],
      municipalityId: "",
    });
    expect(school).toMatchObject({
      schoolId,
      municipalityId,
      shortName: "СОШ № 1",
      timeZone: "Asia/Yekaterinburg",
      inn: VALID_INN,
      ogrn: VALID_OGRN,
      closedOn: "",
    });
  });

  it("is idempotent by command id, and refuses the id for another command", async () => {
    const { municipalityId } = await givenSchool(t.deps);
    const input = schoolInput(municipalityId);
    const first = await registerSchool(t.deps, input);
    const again = await registerSchool(t.deps, input);
    expect(again).toEqual(first);
    expect(await getSchools(t.deps.store.pool, { schoolIds: [], municipalityId })).toHaveLength(2);
    await expectRefused(
      t.deps,
      () => registerSchool(t.deps, { ...input, name: "Другая школа" }),
      "invalid_argument",
      "command_id",
    );
  });

  it("refuses bad INN, OGRN, zone, empty names and unknown municipalities, changing nothing", async () => {
    const { municipalityId } = await givenSchool(t.deps);
    const ok = schoolInput(municipalityId);
    const d = t.deps;
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, inn: "7707083894" }),
      "invalid_argument",
      "inn",
    );
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, inn: "500100732259" }),
      "invalid_argument",
      "inn",
    );
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, ogrn: "1027700132196" }),
      "invalid_argument",
      "ogrn",
    );
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, timeZone: "Ural/Chelyabinsk" }),
      "invalid_argument",
      "time_zone",
    );
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, name: " " }),
      "invalid_argument",
      "name",
    );
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, commandId: "" }),
      "invalid_argument",
      "command_id",
    );
    await expectRefused(
      d,
      () => registerSchool(d, { ...ok, municipalityId: "0190e1b2-0000-7000-8000-000000000000" }),
      "not_found",
      "municipality_id",
    );
    await expectRefused(
      d,
      () => registerMunicipality(d, { commandId: cmd(), name: "" }),
      "invalid_argument",
      "name",
    );
  });

  it("refuses NUL and control characters in names, address and command id (not INTERNAL)", async () => {
    const { municipalityId, schoolId } = await givenSchool(t.deps);
    const nul = "Лицей\u0000№ 31";
    for (const field of ["name", "shortName", "address"] as const) {
      await expectRefused(
        t.deps,
        () => registerSchool(t.deps, { ...schoolInput(municipalityId), [field]: nul }),
        "invalid_argument",
        field === "shortName" ? "short_name" : field,
      );
    }
    await expectRefused(
      t.deps,
      () => registerMunicipality(t.deps, { commandId: cmd(), name: "Город\u001b[31m" }),
      "invalid_argument",
      "name",
    );
    await expectRefused(
      t.deps,
      () => renameSchool(t.deps, { commandId: cmd(), schoolId, name: nul, shortName: "Л 31" }),
      "invalid_argument",
      "name",
    );
    await expectRefused(
      t.deps,
      () => registerSchool(t.deps, { ...schoolInput(municipalityId), commandId: "c\u0000" }),
      "invalid_argument",
      "command_id",
    );
  });

  it("renames a municipality, refusing unknown ids and empty names", async () => {
    const { municipalityId } = await givenSchool(t.deps);
    await renameMunicipality(t.deps, {
      commandId: cmd(),
      municipalityId,
      name: "Златоустовский ГО",
    });
    const all = await listMunicipalities(t.deps.store.pool);
    expect(all.find((m) => m.municipalityId === municipalityId)?.name).toBe("Златоустовский ГО");
    await expectRefused(
      t.deps,
      () => renameMunicipality(t.deps, { commandId: cmd(), municipalityId, name: "" }),
      "invalid_argument",
      "name",
    );
    await expectRefused(
      t.deps,
      () =>
        renameMunicipality(t.deps, {
          commandId: cmd(),
          municipalityId: "0190e1b2-0000-7000-8000-00000000000b",
          name: "X",
        }),
      "not_found",
      "municipality_id",
    );
  });

  it("renames and closes a school; a closed school refuses renaming and closing", async () => {
    const { schoolId } = await givenSchool(t.deps);
    await renameSchool(t.deps, {
      commandId: cmd(),
      schoolId,
      name: "МАОУ СОШ № 2",
      shortName: "СОШ 2",
    });
    await closeSchool(t.deps, { commandId: cmd(), schoolId, closedOn: "2026-12-31" });
    const [school] = await getSchools(t.deps.store.pool, {
      schoolIds: [schoolId],
      municipalityId: "",
    });
    expect(school).toMatchObject({
      name: "МАОУ СОШ № 2",
      shortName: "СОШ 2",
      closedOn: "2026-12-31",
    });
    await expectRefused(
      t.deps,
      () => renameSchool(t.deps, { commandId: cmd(), schoolId, name: "X", shortName: "X" }),
      "failed_precondition",
      "school_id",
    );
    await expectRefused(
      t.deps,
      () => closeSchool(t.deps, { commandId: cmd(), schoolId, closedOn: "2027-01-01" }),
      "failed_precondition",
      "school_id",
    );
    await expectRefused(
      t.deps,
      () =>
        closeSchool(t.deps, {
          commandId: cmd(),
          schoolId: "0190e1b2-0000-7000-8000-000000000001",
          closedOn: "2027-01-01",
        }),
      "not_found",
      "school_id",
    );
    await expectRefused(
      t.deps,
      () => closeSchool(t.deps, { commandId: cmd(), schoolId, closedOn: "31.12.2026" }),
      "invalid_argument",
      "closed_on",
    );
  });
});
