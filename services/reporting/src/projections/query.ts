/** A query on the batch's transaction; `$S.` in the text stands for the read model's schema. */
export type Q = <R = Record<string, unknown>>(text: string, params: unknown[]) => Promise<R[]>;

type RawQuery = (text: string, params?: unknown[]) => Promise<{ rows: unknown[] }>;

export const schemaQuery =
  (query: RawQuery, schema: string): Q =>
  async <R>(text: string, params: unknown[]) =>
    (await query(text.replaceAll("$S.", `"${schema}".`), params)).rows as R[];

/**
 * `q` for writes whose result nothing reads: each is handed to `writeBehind` (the batch's
 * commit waits for it, and fails with it) and answers no rows at once.
 */
export const writeBehindQuery =
  (q: Q, writeBehind: (write: Promise<unknown>) => void): Q =>
  async <R>(text: string, params: unknown[]) => {
    writeBehind(q(text, params));
    return [] as R[];
  };
