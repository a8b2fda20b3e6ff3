import { z } from "zod";
import { dataSchemaUrl, PORTAL_EVENT_TYPES, PORTAL_EVENTS } from "./types.js";

/** File name → JSON text of every portal.v1 data schema. */
export function jsonSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const type of PORTAL_EVENT_TYPES) {
    const schema = z.toJSONSchema(PORTAL_EVENTS[type].schema) as Record<string, unknown>;
    const doc = { $id: dataSchemaUrl(type), title: type, ...schema };
    files[`${type.slice("portal.v1.".length)}.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return files;
}
