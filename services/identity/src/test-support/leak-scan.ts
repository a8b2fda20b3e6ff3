import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type pg from "pg";

/** Byte strings to look for, each with a label for failure messages. */
export type Needles = Record<string, Buffer>;

/** Text forms a byte string may take in text or JSON: as is (UTF-8), hex and base64. */
function textForms(b: Buffer): string[] {
  return [b.toString("utf8"), b.toString("hex"), b.toString("base64"), b.toString("base64url")];
}

export function containsNeedle(haystack: Buffer | string, needle: Buffer): boolean {
  const h = typeof haystack === "string" ? Buffer.from(haystack, "utf8") : haystack;
  if (h.includes(needle)) return true;
  const text = h.toString("utf8");
  return textForms(needle).some((f) => f.length >= 8 && text.includes(f));
}

/**
 * Every text, json, jsonb and bytea column of every table of the database (all schemas but
 * the system ones), searched for each needle in every form. Returns "schema.table.column:
 * label" for each hit.
 */
export async function scanDatabase(db: pg.Pool, needles: Needles): Promise<string[]> {
  const { rows: columns } = await db.query<{ s: string; t: string; c: string; type: string }>(
    `SELECT c.table_schema AS s, c.table_name AS t, c.column_name AS c, c.data_type AS type
     FROM information_schema.columns c
     JOIN information_schema.tables t USING (table_schema, table_name)
     WHERE t.table_type = 'BASE TABLE'
       AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
       AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')`,
  );
  const hits: string[] = [];
  for (const col of columns) {
    const ident = `"${col.s}"."${col.t}"`;
    const expr = col.type === "bytea" ? `"${col.c}"` : `convert_to("${col.c}"::text, 'UTF8')`;
    for (const [label, needle] of Object.entries(needles)) {
      for (const form of [needle, ...textForms(needle).map((f) => Buffer.from(f, "utf8"))]) {
        if (form.length < 8) continue;
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${ident} WHERE position($1::bytea IN ${expr}) > 0`,
          [form],
        );
        if (rows[0]!.n > 0) hits.push(`${col.s}.${col.t}.${col.c}: ${label}`);
      }
    }
  }
  return [...new Set(hits)];
}

/**
 * Every message (payload and headers) of every JetStream stream whose name starts with
 * `prefix`. Returns the streams scanned with their message counts, and the hits.
 */
export async function scanNatsStreams(
  natsUrl: string,
  prefix: string,
  needles: Needles,
): Promise<{ streams: Record<string, number>; hits: string[] }> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const streams: Record<string, number> = {};
    const hits: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(prefix)) continue;
      const info = await jsm.streams.info(name);
      streams[name] = info.state.messages;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!m) continue;
        const headers = m.header
          ? [...m.header.keys()].map((k) => `${k}:${m.header.values(k).join(",")}`).join("\n")
          : "";
        for (const [label, needle] of Object.entries(needles)) {
          if (
            containsNeedle(Buffer.from(m.data), needle) ||
            containsNeedle(headers, needle) ||
            containsNeedle(m.subject, needle)
          ) {
            hits.push(`${name}#${seq}: ${label}`);
          }
        }
      }
    }
    return { streams, hits };
  } finally {
    await nc.close();
  }
}
