import type { z } from "zod";
import {
  classGroupReferenceSchema,
  pupilConsentWithdrawnSchema,
  pupilErasedSchema,
  pupilPerformanceUpdatedSchema,
  schoolReferenceSchema,
  workProgrammeSchema,
} from "./schemas.js";

/** The subject `<kind>` token: every message about one thing shares one subject. */
export type PortalKind = "pupil" | "programme" | "school" | "classgroup";

/** Every portal.v1 event type, its subject kind and its data schema. */
export const PORTAL_EVENTS = {
  "portal.v1.PupilPerformanceUpdated": { kind: "pupil", schema: pupilPerformanceUpdatedSchema },
  "portal.v1.PupilConsentWithdrawn": { kind: "pupil", schema: pupilConsentWithdrawnSchema },
  "portal.v1.PupilErased": { kind: "pupil", schema: pupilErasedSchema },
  "portal.v1.WorkProgrammePublished": { kind: "programme", schema: workProgrammeSchema },
  "portal.v1.WorkProgrammeRevised": { kind: "programme", schema: workProgrammeSchema },
  "portal.v1.SchoolReference": { kind: "school", schema: schoolReferenceSchema },
  "portal.v1.ClassGroupReference": { kind: "classgroup", schema: classGroupReferenceSchema },
} as const satisfies Record<string, { kind: PortalKind; schema: z.ZodType }>;

export type PortalEventType = keyof typeof PORTAL_EVENTS;

export const PORTAL_EVENT_TYPES = Object.keys(PORTAL_EVENTS) as PortalEventType[];

/** Where subscribers find the JSON Schema of an event's data (also in services/portal/schemas). */
export const SCHEMA_BASE_URL = "https://schemas.otmetka.ru/portal/v1";

export function dataSchemaUrl(type: PortalEventType): string {
  return `${SCHEMA_BASE_URL}/${type.slice("portal.v1.".length)}.json`;
}

export const CLOUD_EVENT_SOURCE = "/otmetka/portal";
