/**
 * What every bench script sets up the same way: where the servers are, its knobs, its log
 * line, the scratch databases and NATS prefixes it must remove again, and the closing report.
 */
import { performance } from "node:perf_hooks";
import {
  createTestDatabase,
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  deleteNatsPrefix,
  type TestDatabase,
  uniqueNatsPrefix,
} from "@otmetka/testing";
import { type Figure, formatTable, type Machine, writeResults } from "./results.js";

export const ADMIN_URL = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
export const NATS_URL = process.env.NATS_URL ?? DEFAULT_NATS_URL;

/** A numeric knob from the environment; a value that is not a number stops the bench by name. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.replaceAll("_", ""));
  if (!Number.isFinite(value)) throw new Error(`${name}=${raw} is not a number`);
  return value;
}

/** `[bench:<name>] message` on stderr, so stdout keeps only the table. */
export const benchLog =
  (name: string) =>
  (message: string): void => {
    process.stderr.write(`[bench:${name}] ${message}\n`);
  };

export async function postgresVersion(db: {
  query: (sql: string) => Promise<{ rows: { v: string }[] }>;
}): Promise<string> {
  const { rows } = await db.query("SELECT current_setting('server_version') AS v");
  return rows[0]?.v ?? "unknown";
}

/**
 * The databases and NATS prefixes a bench creates, removed by `cleanup` (in `finally`, and on
 * Ctrl-C), because the servers are shared with other runs.
 */
export class BenchScratch {
  private readonly databases: TestDatabase[] = [];
  private readonly prefixes: string[] = [];
  private readonly onInterrupt = () => {
    void this.cleanup().then(() => process.exit(130));
  };

  constructor() {
    process.once("SIGINT", this.onInterrupt);
  }

  async database(label: string): Promise<TestDatabase> {
    const db = await createTestDatabase(ADMIN_URL, label);
    this.databases.push(db);
    return db;
  }

  natsPrefix(): string {
    const prefix = uniqueNatsPrefix();
    this.prefixes.push(prefix);
    return prefix;
  }

  /** Removes what it made; once done, Ctrl-C is no longer this scratch's business. */
  async cleanup(): Promise<void> {
    process.off("SIGINT", this.onInterrupt);
    const databases = this.databases.splice(0);
    const prefixes = this.prefixes.splice(0);
    await Promise.all([
      ...databases.map((d) => d.drop().catch(() => {})),
      ...prefixes.map((p) => deleteNatsPrefix(NATS_URL, p).catch(() => {})),
    ]);
  }
}

/** Writes results/<name>.json and prints the table with what it was measured on. */
export function report(
  name: string,
  m: Machine,
  figures: Figure[],
  o: { began: number; runs: number; written?: Figure[] },
): void {
  const path = writeResults(name, m, o.written ?? figures);
  const postgres = m.postgres ? `, PostgreSQL ${m.postgres}` : "";
  const seconds = ((performance.now() - o.began) / 1000).toFixed(0);
  process.stdout.write(
    `\n${name} benchmark — ${m.cpus} cpus, node ${m.node}${postgres}, ${o.runs} runs each\n\n${formatTable(figures)}\n\nwritten to ${path} in ${seconds} s\n`,
  );
}
