// Preloaded with `node --import` (BENCH_PG_STATEMENTS_DIR): counts the PostgreSQL statements
// this process sends through `pg` (pg_stat_statements is not installed everywhere), by their
// text's first 100 characters, from SIGUSR2 (the measured runs) to exit, and writes
// <dir>/<pid>-statements.json: { total, statements: { "<text>": count } }.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const dir = process.env.BENCH_PG_STATEMENTS_DIR;
if (dir) {
  // The services' own `pg` (one hoisted copy in this workspace), resolved from where they run.
  const pg = createRequire(`${process.cwd()}/package.json`)("pg");
  const counts = new Map();
  let counting = false;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    if (counting) {
      const text = typeof config === "string" ? config : (config?.text ?? config?.name ?? "?");
      const key = String(text).replace(/\s+/g, " ").trim().slice(0, 100);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return query.call(this, config, ...rest);
  };
  process.on("SIGUSR2", () => {
    counting = true;
  });
  process.on("exit", () => {
    if (!counting) return;
    const statements = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    writeFileSync(
      `${dir}/${process.pid}-statements.json`,
      JSON.stringify({ cwd: process.cwd(), total, statements }, null, 1),
    );
  });
}
