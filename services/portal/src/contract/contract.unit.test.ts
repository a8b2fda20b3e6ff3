import { readFile } from "node:fs/promises";
import * as proto from "@otmetka/proto/portal/v1/events";
import { DomainError } from "@otmetka/service-kit";
import { CloudEvent } from "cloudevents";
import { describe, expect, it } from "vitest";
import { portalCloudEvent } from "./cloud-event.js";
import { jsonSchemaFiles } from "./json-schema.js";
import { pupilPerformanceUpdatedSchema } from "./schemas.js";
import { PORTAL_EVENT_TYPES, type PortalEventType } from "./types.js";

// One sample per event with no field at its proto3 default, so the proto JSON mapping of the
// stable contract (proto/otmetka/portal/v1) must reproduce every field the schema allows.
const performance = {
  portalId: "EPGU-1",
  schoolId: "s-1",
  municipalityId: "m-1",
  academicYear: 2026,
  currentTerm: 2,
  subjects: [
    {
      subjectId: "math",
      currentMarks: ["5", "pass"],
      average: "4.50",
      termMarks: [{ term: 1, mark: "4" }],
      yearMark: "5",
      exemptions: [{ firstDay: "2026-09-01", lastDay: "2026-12-31" }],
    },
  ],
  absences: { lessonsMissed: 3, excused: 2, late: 1 },
  asOf: "2026-11-28T10:00:00.000Z",
};
const programme = {
  programmeId: "wp-1",
  schoolId: "s-1",
  municipalityId: "m-1",
  academicYear: 2026,
  subjectId: "math",
  gradeLevel: 5,
  version: 2,
  topics: [{ itemId: "v2.1", topic: "Дроби", hours: 4, deliveredLessons: 1 }],
  totalHours: 4,
  deliveredLessons: 1,
};
const SAMPLES: Record<
  PortalEventType,
  {
    data: Record<string, unknown>;
    message: { fromJSON(o: unknown): unknown; toJSON(m: never): unknown };
  }
> = {
  "portal.v1.PupilPerformanceUpdated": {
    data: performance,
    message: proto.PupilPerformanceUpdated,
  },
  "portal.v1.PupilConsentWithdrawn": {
    data: {
      portalId: "EPGU-1",
      schoolId: "s-1",
      municipalityId: "m-1",
      withdrawnAt: "2026-11-28T10:00:00.000Z",
    },
    message: proto.PupilConsentWithdrawn,
  },
  "portal.v1.PupilErased": {
    data: { portalId: "EPGU-1", erasedAt: "2026-11-28T10:00:00.000Z" },
    message: proto.PupilErased,
  },
  "portal.v1.WorkProgrammePublished": {
    data: { ...programme, version: 1 },
    message: proto.WorkProgramme,
  },
  "portal.v1.WorkProgrammeRevised": { data: programme, message: proto.WorkProgramme },
  "portal.v1.SchoolReference": {
    data: {
      schoolId: "s-1",
      municipalityId: "m-1",
      name: "МАОУ СОШ № 1",
      shortName: "СОШ 1",
      closedOn: "2027-06-01",
    },
    message: proto.SchoolReference,
  },
  "portal.v1.ClassGroupReference": {
    data: {
      classGroupId: "cg-1",
      schoolId: "s-1",
      municipalityId: "m-1",
      academicYear: 2026,
      gradeLevel: 5,
      letter: "А",
      closed: true,
    },
    message: proto.ClassGroupReference,
  },
};

describe("portal.v1 contract", () => {
  it.each(PORTAL_EVENT_TYPES)(
    "%s: the JSON schema and the proto message describe the same JSON",
    (type) => {
      const { data, message } = SAMPLES[type];
      const ce = portalCloudEvent({
        id: "018f2c1e-0000-7000-8000-000000000002",
        type,
        key: "k",
        time: new Date(),
        data,
      });
      expect(message.toJSON(message.fromJSON(ce.data) as never)).toEqual(data);
    },
  );

  it.each(PORTAL_EVENT_TYPES)(
    "%s: the envelope is a valid CloudEvent 1.0 with dataschema",
    (type) => {
      const ce = portalCloudEvent({
        id: "018f2c1e-0000-7000-8000-000000000001",
        type,
        key: "k-1",
        time: new Date("2026-11-28T10:00:00Z"),
        data: SAMPLES[type].data,
      });
      const parsed = new CloudEvent(JSON.parse(JSON.stringify(ce)), true);
      expect(parsed.validate()).toBe(true);
      expect(parsed).toMatchObject({ specversion: "1.0", type, source: "/otmetka/portal" });
      expect(parsed.dataschema).toMatch(/^https:\/\/schemas\.otmetka\.ru\/portal\/v1\/\w+\.json$/);
      expect(parsed.subject).toMatch(/^(pupil|programme|school|classgroup)\/k-1$/);
    },
  );

  it("refuses data outside the schema, naming the field", () => {
    const bad = { ...performance, absences: { ...performance.absences, late: -1 } };
    const err = (() => {
      try {
        portalCloudEvent({
          id: "x",
          type: "portal.v1.PupilPerformanceUpdated",
          key: "k",
          time: new Date(),
          data: bad,
        });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).field).toBe("data.absences.late");
    // A field the contract does not have (an internal one leaking) is refused too.
    expect(() =>
      portalCloudEvent({
        id: "x",
        type: "portal.v1.PupilErased",
        key: "k",
        time: new Date(),
        data: { portalId: "EPGU-1", erasedAt: "2026-11-28T10:00:00Z", personId: "p1" },
      }),
    ).toThrow(DomainError);
  });

  // SubjectPerformance.exemptions came within v1 (additive, optional): a snapshot of a pupil
  // without exemptions carries no such field and is exactly what v1 subscribers got before.
  it("PupilPerformanceUpdated: exemptions are optional, absent when there are none, never their reason", () => {
    const parse = (subject: Record<string, unknown>) =>
      pupilPerformanceUpdatedSchema.safeParse({ ...performance, subjects: [subject] }).success;
    const { exemptions: _, ...before } = performance.subjects[0] as Record<string, unknown>;
    expect(parse(before)).toBe(true);
    // Through the proto mapping it stays absent (proto3 JSON omits an empty repeated field).
    const decoded = proto.SubjectPerformance.fromJSON(before);
    expect(decoded.exemptions).toEqual([]);
    expect(proto.SubjectPerformance.toJSON(decoded)).toEqual(before);
    // An exempt subject with no marks.
    const exemptOnly = {
      subjectId: "pe",
      currentMarks: [],
      average: "",
      termMarks: [],
      yearMark: "",
      exemptions: [{ firstDay: "2026-09-01", lastDay: "2027-05-31" }],
    };
    expect(parse(exemptOnly)).toBe(true);
    expect(parse({ ...exemptOnly, exemptions: [] })).toBe(false);
    expect(parse({ ...exemptOnly, exemptions: [{ firstDay: "2026-09-01" }] })).toBe(false);
    expect(parse({ ...exemptOnly, exemptions: [{ firstDay: "1.09.2026", lastDay: "" }] })).toBe(
      false,
    );
    expect(
      parse({
        ...exemptOnly,
        exemptions: [{ firstDay: "2026-09-01", lastDay: "2027-05-31", reason: "здоровье" }],
      }),
    ).toBe(false);
  });

  it("the published JSON Schema files are up to date (npm run schemas)", async () => {
    for (const [file, text] of Object.entries(jsonSchemaFiles())) {
      // Compared as JSON: the formatter may re-wrap the committed files.
      const committed = JSON.parse(
        await readFile(new URL(`../../schemas/${file}`, import.meta.url), "utf8"),
      );
      expect(committed).toEqual(JSON.parse(text));
    }
  });
});
