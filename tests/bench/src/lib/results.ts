import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, round } from "./stats.js";

/** One line of a benchmark's results, in the shape of conventions.md ("Benchmarks"). */
export interface Figure {
  id: string;
  value: number;
  unit: string;
  runs: number[];
  baseline_id: string | null;
  baseline: number | null;
  ratio: number | null;
  goal: number | null;
  limit?: number;
  limit_kind?: "max" | "min";
  /** Free text shown in the table (e.g. "synchronous_commit=off"). */
  note?: string;
}

export interface Machine {
  cpus: number;
  node: string;
  postgres?: string;
  nats?: string;
  [extra: string]: unknown;
}

export interface FigureOptions {
  id: string;
  unit: string;
  runs: number[];
  baseline?: { id: string; runs: number[] };
  goal?: number | null;
  higherIsBetter?: boolean;
  note?: string;
}

/**
 * A measured figure against its baseline. `higherIsBetter` false (latencies) makes
 * ratio = baseline / value, so a higher ratio is always better.
 */
export function figure(options: FigureOptions): Figure {
  const value = median(options.runs);
  const baseline = options.baseline ? median(options.baseline.runs) : null;
  const higher = options.higherIsBetter ?? true;
  const ratio =
    baseline === null || baseline === 0 || value === 0
      ? null
      : Number((higher ? value / baseline : baseline / value).toFixed(3));
  return {
    id: options.id,
    value: round(value),
    unit: options.unit,
    runs: options.runs.map(round),
    baseline_id: options.baseline?.id ?? null,
    baseline: baseline === null ? null : round(baseline),
    ratio,
    goal: options.goal ?? null,
    ...(options.note ? { note: options.note } : {}),
  };
}

/** Baselines are figures too (no baseline of their own), so the JSON lists every measurement. */
export function baselineFigure(id: string, unit: string, runs: number[], note?: string): Figure {
  return figure({ id, unit, runs, ...(note ? { note } : {}) });
}

/** A figure and, after it, its baseline's own figure, in the same unit and with the same note. */
export function figureAndBaseline(
  options: FigureOptions & { baseline: { id: string; runs: number[] } },
): [Figure, Figure] {
  const { baseline, unit, note } = options;
  return [figure(options), baselineFigure(baseline.id, unit, baseline.runs, note)];
}

function version(cmd: string, args: string[], pattern: RegExp): string | undefined {
  try {
    const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return pattern.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

export function machine(extra: Partial<Machine> = {}): Machine {
  const nats = version("nats-server", ["--version"], /v?(\d+\.\d+\.\d+)/);
  return {
    cpus: os.cpus().length,
    node: process.version,
    ...(nats ? { nats } : {}),
    cpu_model: os.cpus()[0]?.model ?? "unknown",
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    ...extra,
  };
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "results");

/** Writes tests/bench/results/<name>.json and returns its path. */
export function writeResults(name: string, m: Machine, figures: Figure[]): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  const doc = { name, when: new Date().toISOString(), machine: m, figures };
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}

/**
 * With BENCH_ONLY (`only` not empty) a bench measures one part: the figures of the other
 * parts are kept from its previous results file, so that the file still holds them all.
 */
export function withEarlierFigures(name: string, figures: Figure[], only: string): Figure[] {
  if (only === "") return figures;
  try {
    const earlier = JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), "utf8")) as {
      figures: Figure[];
    };
    const fresh = new Set(figures.map((f) => f.id));
    return [...earlier.figures.filter((f) => !fresh.has(f.id)), ...figures];
  } catch {
    return figures;
  }
}

/** The human table: one line per figure, with its baseline, ratio and goal. */
/** An absolute bound the issue asks for, and whether the median keeps it. */
function limitCell(f: Figure): string {
  if (f.limit === undefined) return "";
  const max = f.limit_kind !== "min";
  const kept = max ? f.value <= f.limit : f.value >= f.limit;
  return `${max ? "<=" : ">="} ${f.limit} ${kept ? "ok" : "MISSED"}`;
}

export function formatTable(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.id,
    `${f.value} ${f.unit}`,
    `${Math.min(...f.runs)}..${Math.max(...f.runs)}`,
    f.baseline_id ? `${f.baseline} (${f.baseline_id})` : "",
    f.ratio === null ? "" : f.ratio.toFixed(2),
    f.goal === null
      ? ""
      : `>= ${f.goal}${f.ratio !== null ? (f.ratio >= f.goal ? " ok" : " MISSED") : ""}`,
    limitCell(f),
    f.note ?? "",
  ]);
  const head = ["figure", "median", "min..max", "baseline", "ratio", "goal", "limit", "note"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
