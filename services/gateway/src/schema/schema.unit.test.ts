import { readFileSync } from "node:fs";
import { Grading, TermKind } from "@otmetka/proto/curriculum/events/v1/events";
import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { PersonKind, Sex } from "@otmetka/proto/identity/v1/identity_service";
import {
  buildASTSchema,
  graphqlSync,
  isEnumType,
  isInputObjectType,
  isObjectType,
  parse,
  printSchema,
  validate,
} from "graphql";
import { describe, expect, it } from "vitest";
import { FIELD_POLICIES, INHERITING_TYPES } from "../authz/policies.js";
import { COMMANDS, codecs } from "../mutations/commands.js";
import {
  ADMIN_COMMANDS,
  commandOperation,
  inputTypeOf,
  JOURNAL_COMMANDS,
  payloadTypeOf,
} from "../mutations/typed.js";
import { buildSchema } from "./build.js";

describe("schema", () => {
  const schema = buildSchema();

  it("is the committed schema.graphql (npm run schema:print rewrites it)", () => {
    const committed = readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8");
    // Both printed by the same printer, so only the schema itself (descriptions included) counts.
    expect(printSchema(schema)).toBe(printSchema(buildASTSchema(parse(committed))));
  });

  it("has the fixed root fields of issue 12", () => {
    const fields = Object.keys(schema.getQueryType()?.getFields() ?? {});
    expect(fields).toEqual(
      expect.arrayContaining([
        "me",
        "region",
        "municipality",
        "school",
        "classGroup",
        "person",
        "journal",
        "diary",
        "workProgramme",
        "dashboard",
      ]),
    );
  });

  it("describes every type and field", () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (
        type.name.startsWith("__") ||
        ["String", "Int", "Float", "Boolean", "ID"].includes(type.name)
      )
        continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const f of Object.values(type.getFields()))
          if (!f.description) missing.push(`${type.name}.${f.name}`);
      }
      if (isEnumType(type))
        for (const v of type.getValues())
          if (!v.description) missing.push(`${type.name}.${v.name}`);
    }
    expect(missing).toEqual([]);
  });

  it("puts every field behind a policy: its own, or its type inherits its authorized parent", () => {
    const uncovered: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith("__")) continue;
      for (const f of Object.keys(type.getFields())) {
        const key = `${type.name}.${f}`;
        if (!FIELD_POLICIES[key] && !INHERITING_TYPES.has(type.name)) uncovered.push(key);
      }
    }
    expect(uncovered).toEqual([]);
    // Every root field has its own policy; Query never inherits.
    expect(INHERITING_TYPES.has("Query")).toBe(false);
    // Policies name fields that exist.
    for (const key of Object.keys(FIELD_POLICIES)) {
      const [t = "", f = ""] = key.split(".");
      const type = schema.getType(t);
      expect(isObjectType(type) && type.getFields()[f], key).toBeTruthy();
    }
  });

  // The proto enum's names without UNSPECIFIED (never a valid value) and ts-proto's UNRECOGNIZED.
  const protoNames = (e: object) =>
    Object.keys(e).filter(
      (k) => Number.isNaN(Number(k)) && k !== "UNRECOGNIZED" && !k.endsWith("_UNSPECIFIED"),
    );

  it("types the journal commands by introspection: RecordMarkInput, its nested inputs, enums of proto3 JSON names", () => {
    const r = graphqlSync({
      schema,
      source: `{
        input: __type(name: "RecordMarkInput") { kind description inputFields { name description type { kind name ofType { name } } } }
        mark: __type(name: "MarkInput") { inputFields { name type { kind name ofType { name } } } }
        values: __type(name: "MarkValueInput") { kind enumValues { name description } }
        reasons: __type(name: "AbsenceReasonInput") { enumValues { name } }
        mutation: __schema { mutationType { fields { name type { ofType { name } } args { name type { ofType { name } } } } } }
      }`,
    });
    expect(r.errors).toBeUndefined();
    const data = r.data as Record<string, Record<string, unknown>>;
    interface Field {
      name: string;
      type: { kind: string; name: string | null; ofType: { name: string } | null };
    }
    // name -> "Type" or "Type!"
    const fieldTypes = (fields: Field[]) =>
      Object.fromEntries(
        fields.map((f) => [
          f.name,
          f.type.kind === "NON_NULL" ? `${f.type.ofType?.name}!` : f.type.name,
        ]),
      );
    const input = data.input as { kind: string; description: string; inputFields: Field[] };
    expect(input.kind).toBe("INPUT_OBJECT");
    expect(input.description).toMatch(/RecordMark/);
    expect(fieldTypes(input.inputFields)).toEqual({
      journal: "JournalRefInput!",
      lessonId: "ID!",
      mark: "MarkInput!",
    });
    const mark = data.mark as { inputFields: Field[] };
    expect(fieldTypes(mark.inputFields)).toEqual({
      studentId: "ID!",
      value: "MarkValueInput!",
      workType: "String",
      comment: "String",
    });
    const values = data.values as { kind: string; enumValues: { name: string }[] };
    expect(values.kind).toBe("ENUM");
    expect(values.enumValues.map((v) => v.name)).toEqual(protoNames(MarkValue));
    expect(values.enumValues.map((v) => v.name)).toContain("MARK_VALUE_TWO");
    const reasons = data.reasons as { enumValues: { name: string }[] };
    expect(reasons.enumValues.map((v) => v.name)).toEqual(protoNames(AbsenceReason));
    const fields = (
      data.mutation as {
        mutationType: {
          fields: {
            name: string;
            type: { ofType: { name: string } };
            args: { name: string; type: { ofType: { name: string } } }[];
          }[];
        };
      }
    ).mutationType.fields;
    const recordMark = fields.find((f) => f.name === "recordMark");
    expect(recordMark?.args.map((a) => [a.name, a.type.ofType.name])).toEqual([
      ["commandId", "ID"],
      ["input", "RecordMarkInput"],
    ]);
    expect(recordMark?.type.ofType.name).toBe("RecordMarkPayload");
    // The administrative commands are typed too (generated from the protos).
    const renameSchool = fields.find((f) => f.name === "renameSchool");
    expect(renameSchool?.args.map((a) => [a.name, a.type.ofType.name])).toEqual([
      ["commandId", "ID"],
      ["input", "RenameSchoolInput"],
    ]);
    expect(renameSchool?.type.ofType.name).toBe("RenameSchoolPayload");
    // No command takes or answers JSONObject any more.
    expect(
      fields.filter(
        (f) =>
          f.type.ofType.name === "JSONObject" ||
          f.args.some((a) => a.type.ofType.name === "JSONObject"),
      ),
    ).toEqual([]);
  });

  it("names every command's input fields after its gRPC request's (proto3 JSON), commandId apart", () => {
    expect([...JOURNAL_COMMANDS, ...ADMIN_COMMANDS].sort()).toEqual(
      COMMANDS.map((c) => c.field).sort(),
    );
    expect(ADMIN_COMMANDS.size).toBe(COMMANDS.length - JOURNAL_COMMANDS.size);
    for (const spec of COMMANDS) {
      const type = schema.getType(inputTypeOf(spec.field));
      expect(isInputObjectType(type), spec.field).toBe(true);
      const request = codecs(spec).request.fromPartial({}) as object;
      const fields = isInputObjectType(type) ? Object.keys(type.getFields()).sort() : [];
      expect(fields, spec.field).toEqual(
        Object.keys(request)
          .filter((k) => k !== "commandId")
          .sort(),
      );
    }
  });

  it("names every administrative payload's fields after its gRPC response's as ts-proto decodes it (ok when it has none)", () => {
    for (const field of ADMIN_COMMANDS) {
      const spec = COMMANDS.find((c) => c.field === field);
      if (!spec) throw new Error(field);
      const type = schema.getType(payloadTypeOf(field));
      expect(isObjectType(type), field).toBe(true);
      const response = Object.keys(codecs(spec).response.fromPartial({}) as object).sort();
      const fields = isObjectType(type) ? Object.keys(type.getFields()).sort() : [];
      expect(fields, field).toEqual(response.length ? response : ["ok"]);
    }
    // A nested message is its own type (TokenPair in login's answer), ints as Int, ids as ID.
    const login = schema.getType("LoginPayload");
    const tokens = isObjectType(login) ? login.getFields().tokens?.type.toString() : undefined;
    expect(tokens).toBe("TokenPair");
    const pair = schema.getType("TokenPair");
    expect(
      isObjectType(pair) &&
        Object.fromEntries(Object.values(pair.getFields()).map((f) => [f.name, String(f.type)])),
    ).toEqual({
      accessToken: "String!",
      expiresIn: "Int!",
      refreshToken: "String!",
      refreshExpiresIn: "Int!",
    });
  });

  it("types the administrative inputs' enums with the proto names but UNSPECIFIED, described from the protos", () => {
    const inputField = (type: string, field: string) => {
      const t = schema.getType(type);
      return isInputObjectType(t) ? t.getFields()[field] : undefined;
    };
    const enumValues = (type: string, field: string) => {
      let t = inputField(type, field)?.type;
      while (t && "ofType" in t) t = t.ofType;
      return isEnumType(t) ? t.getValues().map((v) => v.name) : undefined;
    };
    expect(enumValues("RegisterPersonInput", "kind")).toEqual(protoNames(PersonKind));
    expect(enumValues("PersonalDataInput", "sex")).toEqual(protoNames(Sex));
    expect(enumValues("AddSubjectInput", "grading")).toEqual(protoNames(Grading));
    expect(enumValues("DefineTermSystemInput", "kind")).toEqual(protoNames(TermKind));
    // One academic year input for every command.
    expect(String(inputField("OpenClassGroupInput", "academicYear")?.type)).toBe(
      "AcademicYearInput!",
    );
    expect(String(inputField("GenerateLessonsInput", "academicYear")?.type)).toBe(
      "AcademicYearInput!",
    );
    // Descriptions are the proto comments; "Required." in one makes the field non-null.
    expect(inputField("CreateAccountInput", "personId")?.description).toBe(
      "A staff member, student or guardian; empty for a platform account (PLATFORM_ADMIN only).",
    );
    expect(String(inputField("DisableAccountInput", "reason")?.type)).toBe("String!");
    expect(String(inputField("CreateAccountInput", "personId")?.type)).toBe("ID");
  });

  it("makes an administrative input field non-null exactly where its proto says Required. (the service always refuses it absent)", () => {
    const typeOf = (type: string, field: string) => {
      const t = schema.getType(type);
      return isInputObjectType(t) ? String(t.getFields()[field]?.type) : undefined;
    };
    const cases: [string, string, string][] = [
      // auth: every account command names its account; a login needs both credentials.
      ["DisableAccountInput", "accountId", "ID!"],
      ["LoginInput", "password", "String!"],
      ["GrantRoleInput", "grant", "RoleGrantInput!"],
      ["RoleGrantInput", "role", "String!"],
      // identity: nested messages too.
      ["RenameSchoolInput", "shortName", "String!"],
      ["RegisterPersonInput", "personalData", "PersonalDataInput!"],
      ["PersonalDataInput", "sex", "SexInput!"],
      ["OpenClassGroupInput", "gradeLevel", "Int!"],
      // curriculum: the school, the year, a list the service wants non-empty.
      ["CancelLessonInput", "reason", "String!"],
      ["DefineAcademicYearInput", "daysPerWeek", "Int!"],
      ["DraftWorkProgrammeInput", "items", "[PlannedLessonInput!]!"],
      ["PlannedLessonInput", "hours", "Int!"],
      // Required only sometimes (one kind of caller, one of two alternatives) or defaulted:
      // nullable, and the service's own error speaks for a missing one.
      ["ChangePasswordInput", "currentPassword", "String"],
      ["AddSubjectInput", "schoolId", "ID"],
      ["AddSubjectInput", "municipalityId", "ID"],
      ["AssignHomeroomTeacherInput", "homeroomTeacherId", "ID"],
      ["DefineAcademicYearInput", "timeZone", "String"],
      ["DraftWorkProgrammeInput", "authorId", "ID"],
    ];
    for (const [type, field, expected] of cases)
      expect.soft(typeOf(type, field), `${type}.${field}`).toBe(expected);
  });

  it("commandOperation selects every payload field, nested objects' too, and validates for every command", () => {
    expect(commandOperation("login")).toBe(
      "mutation M($c: ID!, $i: LoginInput!) { login(commandId: $c, input: $i) { tokens { accessToken expiresIn refreshToken refreshExpiresIn } accountId } }",
    );
    expect(commandOperation("logout")).toMatch(/\{ ok \} \}$/);
    for (const spec of COMMANDS)
      expect(validate(schema, parse(commandOperation(spec.field))), spec.field).toEqual([]);
  });
});
