import { readFileSync } from "node:fs";
import { buildASTSchema, isObjectType, parse, printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { FIELD_POLICIES, INHERITING_TYPES } from "../authz/policies.js";
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
      if (isObjectType(type)) {
        for (const f of Object.values(type.getFields()))
          if (!f.description) missing.push(`${type.name}.${f.name}`);
      }
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
});
