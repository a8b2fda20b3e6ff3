import { InvalidMessagingArgument } from "./errors.js";

/** Default number of partitions of a context's subjects; fixed for the life of a stream. */
export const DEFAULT_PARTITIONS = 16;

/** Placeholder for a subject token that does not apply. */
export const NO_TOKEN = "_";

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** FNV-1a (32 bit) over UTF-8: stable across processes, versions and machines. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Partition of an aggregate stream: every event of one stream lands in one partition. */
export function partitionOf(streamId: string, partitions = DEFAULT_PARTITIONS): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    throw new InvalidMessagingArgument("partitions", `must be an integer >= 1, got ${partitions}`);
  }
  return fnv1a32(streamId) % partitions;
}

/** A value as one subject token: characters NATS treats specially become `-`; empty is `_`. */
export function subjectToken(value: string | undefined | null): string {
  if (value === undefined || value === null || value === "") return NO_TOKEN;
  return TOKEN.test(value) ? value : value.replace(/[^A-Za-z0-9_-]/g, "-");
}

/** `grades.v1.MarkRecorded` → `MarkRecorded`: the subject's last token is the short name. */
export function eventTypeToken(type: string): string {
  return subjectToken(type.slice(type.lastIndexOf(".") + 1));
}

export interface SubjectParts {
  municipalityId?: string | undefined;
  schoolId?: string | undefined;
  partition: number;
  type: string;
}

/** `<root>.<municipalityId>.<schoolId>.<partition>.<EventType>` with `root` = `p.grades.v1`. */
export function eventSubject(root: string, parts: SubjectParts): string {
  return [
    root,
    subjectToken(parts.municipalityId),
    subjectToken(parts.schoolId),
    String(parts.partition),
    eventTypeToken(parts.type),
  ].join(".");
}

/** Filter of one partition's events under `root`. */
export function partitionFilter(root: string, partition: number): string {
  return `${root}.*.*.${partition}.*`;
}

/** An aggregate stream id as one subject/KV-key token (base64url: reversible, no dots). */
export function streamKey(streamId: string): string {
  return Buffer.from(streamId, "utf8").toString("base64url");
}

export function streamIdOfKey(key: string): string {
  return Buffer.from(key, "base64url").toString("utf8");
}
