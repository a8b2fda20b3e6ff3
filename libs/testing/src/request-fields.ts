/** One string of a request: its field path as the .proto names it, its key, a copy setting it. */
export interface RequestStringField {
  /** `marks[1].comment`: snake_case names, list indexes, as services name fields in errors. */
  path: string;
  /** The camelCase key that holds the string (`comment`); "" for a bare string. */
  key: string;
  /** A copy of the whole request with this string set to `value`; the request is not changed. */
  set(request: unknown, value: string): unknown;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);

/**
 * Every string of a decoded (ts-proto) request, nested messages and lists included, so a test
 * can send a bad value in each field in turn (the request-strings tests of the services).
 */
export function requestStringFields(value: unknown, path = ""): RequestStringField[] {
  if (typeof value === "string") return [{ path, key: "", set: (_r, v) => v }];
  if (Array.isArray(value))
    return value.flatMap((item, i) =>
      requestStringFields(item, `${path}[${i}]`).map((s) => ({
        ...s,
        set: (r: unknown, v: string) => {
          const list = [...(r as unknown[])];
          list[i] = s.set(list[i], v);
          return list;
        },
      })),
    );
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, item]) =>
      requestStringFields(item, path === "" ? snake(k) : `${path}.${snake(k)}`).map((s) => ({
        ...s,
        key: s.key || k,
        set: (r: unknown, v: string) => {
          const message = r as Record<string, unknown>;
          return { ...message, [k]: s.set(message[k], v) };
        },
      })),
    );
  return [];
}
