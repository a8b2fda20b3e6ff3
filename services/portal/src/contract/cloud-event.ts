import { DomainError } from "@otmetka/service-kit";
import { CLOUD_EVENT_SOURCE, dataSchemaUrl, PORTAL_EVENTS, type PortalEventType } from "./types.js";

/** A CloudEvents 1.0 structured-mode JSON envelope of one portal.v1 event. */
export interface PortalCloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: PortalEventType;
  /** `<kind>/<key>`: the portal id, programme, school or class group id. */
  subject: string;
  time: string;
  datacontenttype: "application/json";
  dataschema: string;
  data: Record<string, unknown>;
}

/** Builds the envelope; data that does not match the published schema is refused (field named). */
export function portalCloudEvent(o: {
  id: string;
  type: PortalEventType;
  key: string;
  time: Date;
  data: unknown;
}): PortalCloudEvent {
  const spec = PORTAL_EVENTS[o.type];
  const parsed = spec.schema.safeParse(o.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `data.${issue?.path.join(".") ?? ""}`;
    throw new DomainError("invalid_argument", `${field}: ${issue?.message ?? "invalid"}`, {
      field,
    });
  }
  return {
    specversion: "1.0",
    id: o.id,
    source: CLOUD_EVENT_SOURCE,
    type: o.type,
    subject: `${spec.kind}/${o.key}`,
    time: o.time.toISOString(),
    datacontenttype: "application/json",
    dataschema: dataSchemaUrl(o.type),
    data: parsed.data as Record<string, unknown>,
  };
}
