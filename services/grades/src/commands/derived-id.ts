import { hash } from "node:crypto";

/**
 * A uuid-shaped id derived from the command id, so a retried command names the same marks
 * (and notes) as its first run.
 */
export function derivedId(commandId: string, what: string): string {
  const h = hash("sha256", `${commandId}\u0000${what}`, "hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
