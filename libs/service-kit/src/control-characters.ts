/*
 * Control characters in a client's text: NUL fails in PostgreSQL (text and jsonb refuse it,
 * INTERNAL instead of a typed error) and the others have no place in a school's records or
 * logs. Services refuse them naming the field.
 */

/** C0 and C1 control characters and DEL, but tab, line feed and carriage return. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** The same with tab, line feed and carriage return: a one-line text has none. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
const CONTROL_OR_BREAK = /[\u0000-\u001F\u007F-\u009F]/;

/** Whether `raw` holds a control character; `multiline` allows tabs and line breaks. */
export const hasControlCharacter = (raw: string, multiline = false): boolean =>
  (multiline ? CONTROL : CONTROL_OR_BREAK).test(raw);
