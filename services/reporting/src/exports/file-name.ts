import { createHash } from "node:crypto";
import type { ReportRequest } from "./performance-report.js";

/*
 * The scope id is the caller's text (a ministry officer may name any municipality) and the
 * file name reaches a Content-Disposition header and a file system: quotes, slashes, control
 * characters or non-ASCII could break either. The name keeps [A-Za-z0-9._-] only, each other
 * run becomes "_", the id at most 64 characters; an id that had to change gets 8 hex digits
 * of its SHA-256, so two different ids never share a name.
 */
const UNSAFE = /[^A-Za-z0-9._-]+/g;
const MAX_ID = 64;

export function fileNameSegment(raw: string): string {
  const kept = raw.replace(UNSAFE, "_").slice(0, MAX_ID);
  if (kept === raw && raw !== "") return raw;
  const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  return `${kept.replace(/_+$/, "")}_${hash}`;
}

/** `performance-<level>-<scope>-<year>-<term|year>-<as of>-v<version>.<csv|xlsx>`, at most ~140 characters. */
export function reportFileName(
  r: ReportRequest,
  definitionVersion: number,
  format: "CSV" | "XLSX",
): string {
  const period = r.term === 0 ? "year" : `term${r.term}`;
  const parts = [
    "performance",
    r.level.toLowerCase(),
    fileNameSegment(r.scopeId),
    String(r.startYear),
    period,
    fileNameSegment(r.asOf),
    `v${definitionVersion}`,
  ];
  return `${parts.join("-")}.${format.toLowerCase()}`;
}
