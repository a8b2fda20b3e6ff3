import type pg from "pg";

/** Uses of one text on a connection before it is sent as a named statement. */
const NAME_AFTER_USES = 2;
/** Named statements per connection; texts beyond are sent unnamed, as before. */
const MAX_NAMED = 200;
/** Distinct texts counted per connection before the counts start over. */
const MAX_COUNTED = 2000;

interface Names {
  named: Map<string, string>;
  uses: Map<string, number>;
}

/** Per connection: pg-pool hands out the same Client object for the connection's lifetime. */
const byClient = new WeakMap<pg.ClientBase, Names>();

type Query = (text: string, params?: unknown[]) => Promise<pg.QueryResult>;

/**
 * A query function for one connection that sends a text with parameters as a named
 * (prepared) statement once it has been used twice on that connection. PostgreSQL then parses
 * and analyses it once per connection instead of once per batch: a projection sends the same
 * few statements every batch (reporting's flush is one statement of six data-modifying CTEs),
 * and at live batch sizes that parse was ~25 % of PostgreSQL's CPU an event. Texts built per
 * batch (a VALUES list of the batch's length) rarely repeat and stay unnamed; both maps are
 * bounded. Prepared statements follow schema renames and drops (PostgreSQL re-analyses a
 * statement whose objects changed), so a rebuild's swap needs nothing here. Texts without
 * parameter values keep the simple protocol.
 */
export function namingQuery(client: pg.ClientBase): Query {
  let names = byClient.get(client);
  if (!names) {
    names = { named: new Map(), uses: new Map() };
    byClient.set(client, names);
  }
  const n = names;
  return (text, params) => {
    // pg sends a text without values by the simple protocol, which allows several statements.
    if (params === undefined || params.length === 0) return client.query(text, params);
    let name = n.named.get(text);
    if (name === undefined && n.named.size < MAX_NAMED) {
      const uses = (n.uses.get(text) ?? 0) + 1;
      if (uses >= NAME_AFTER_USES) {
        name = `projection_${n.named.size + 1}`;
        n.named.set(text, name);
        n.uses.delete(text);
      } else {
        if (n.uses.size >= MAX_COUNTED) n.uses.clear();
        n.uses.set(text, uses);
      }
    }
    return name === undefined
      ? client.query(text, params)
      : client.query({ name, text, values: params });
  };
}
