import type { StreamAppend } from "./event-types.js";

/**
 * Splits appends into chunks of about `maxEvents` events, each committed in its own
 * transaction. A stream's append is never split (its expected version is checked once), so
 * one stream with more events than `maxEvents` makes a chunk of its own.
 */
export function chunkAppends(
  appends: readonly StreamAppend[],
  maxEvents: number,
): StreamAppend[][] {
  const chunks: StreamAppend[][] = [];
  let current: StreamAppend[] = [];
  let size = 0;
  for (const a of appends) {
    if (current.length > 0 && size + a.events.length > maxEvents) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(a);
    size += a.events.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

// COPY text format: backslash, newline, carriage return and tab must be escaped.
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

export function copyTextField(value: string): string {
  return value.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]!);
}
