// Writes schemas/<EventName>.json (JSON Schema 2020-12 of each portal.v1 event's data), the
// files subscribers validate against; schemas.unit.test.ts fails when they are stale.
import { writeFile } from "node:fs/promises";
import { jsonSchemaFiles } from "./json-schema.js";

const dir = new URL("../../schemas/", import.meta.url);
for (const [file, text] of Object.entries(jsonSchemaFiles())) {
  await writeFile(new URL(file, dir), text);
}
