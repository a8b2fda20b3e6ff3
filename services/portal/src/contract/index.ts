export { type PortalCloudEvent, portalCloudEvent } from "./cloud-event.js";
export { jsonSchemaFiles } from "./json-schema.js";
export * from "./schemas.js";
export * from "./types.js";
