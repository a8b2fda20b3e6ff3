// The whole platform as `npm start` runs it (scripts/start.mjs as a child process), beside any
// other run: its own state folder, databases, NATS prefix and ports; and what it prints.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { commandOperation } from "@otmetka/gateway/commands";
import { eventually as retryUntilPasses } from "@otmetka/testing";

const root = fileURLToPath(new URL("../..", import.meta.url));
/** The ports of scripts/platform/layout.mjs; the platform adds one offset to all of them. */
const DEFAULT_PORTS = [50050, 50051, 50052, 50053, 50054, 50055, 50061, 4000];
export const SERVICES = ["identity", "curriculum", "grades", "reporting", "portal", "demo"];

export interface Login {
  role: string;
  username: string;
  password: string;
  query: string;
}

export interface Platform {
  graphqlUrl: string;
  logins: Login[];
  output(): string;
  stop(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
  });
}

/** An offset that moves every platform port onto a free one. */
async function freeOffset(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const offset = 1000 + Math.floor(Math.random() * 14_000);
    const free = await Promise.all(DEFAULT_PORTS.map((p) => portFree(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error("no free set of platform ports found");
}

/** Reads the logins block: `  ROLE  username / password` each followed by its query. */
export function parseLogins(out: string): Login[] {
  const logins: Login[] = [];
  // The launcher's own summary (the seed prints the logins too, before it).
  const lines = out.slice(out.lastIndexOf("otmetka is up")).split("\n");
  for (const [i, line] of lines.entries()) {
    const m = /^ {2}([A-Z_]+) +(\S+) \/ (\S+)$/.exec(line);
    const q = /^ {4}(\{.*\})$/.exec(lines[i + 1] ?? "");
    if (m && q)
      logins.push({
        role: m[1] as string,
        username: m[2] as string,
        password: m[3] as string,
        query: q[1] as string,
      });
  }
  return logins;
}

export async function startPlatform(options: {
  env: Record<string, string>;
  dbPrefix: string;
  seedArgs: string;
  timeoutMs: number;
}): Promise<Platform> {
  const offset = await freeOffset();
  const stateDir = mkdtempSync(join(tmpdir(), "platform-e2e-"));
  let out = "";
  const child: ChildProcess = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: root,
    // Its own process group, so a stop also reaches the services if the launcher hangs.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...options.env,
      OTMETKA_STATE_DIR: stateDir,
      OTMETKA_DB_PREFIX: options.dbPrefix,
      OTMETKA_PORT_OFFSET: String(offset),
      OTMETKA_SKIP_BUILD: "1",
      OTMETKA_SEED_ARGS: options.seedArgs,
      LOG_LEVEL: "warn",
      GATEWAY_RATE_LIMIT_PER_MINUTE: "100000",
    },
  });
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {}
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(stateDir, { recursive: true, force: true });
    // PLATFORM_E2E_LOG=<file> keeps the platform's output for a look after the run.
    if (process.env.PLATFORM_E2E_LOG) writeFileSync(process.env.PLATFORM_E2E_LOG, out);
  };
  const deadline = Date.now() + options.timeoutMs;
  while (!out.includes("Ctrl-C stops everything")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the platform did not come up:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    graphqlUrl: `http://127.0.0.1:${4000 + offset}/graphql`,
    logins: parseLogins(out),
    output: () => out,
    stop,
  };
}

export interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export function graphql(url: string) {
  const gql = async (
    token: string | undefined,
    query: string,
    variables?: object,
  ): Promise<Answer> => {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as Answer;
  };
  /** A query that must answer without errors. */
  const read = async (token: string, query: string) => {
    const a = await gql(token, query);
    if (a.errors || !a.data) throw new Error(`${query}: ${JSON.stringify(a.errors)}`);
    return a.data as Record<string, unknown>;
  };
  /** A command (`field(commandId, input)`): its answer, or the error code it was refused with. */
  const command = async (token: string | undefined, field: string, input: object) => {
    // The journal commands take typed inputs and answer typed payloads (all fields selected).
    const a = await gql(token, commandOperation(field), { c: randomUUID(), i: input });
    const answer = a.data?.[field] as Record<string, unknown> | undefined;
    return { answer, code: a.errors?.[0]?.extensions?.code, errors: a.errors };
  };
  /** A command that must succeed; retried while a service has not yet replicated its facts. */
  const run = async (token: string, field: string, input: object) =>
    eventually(async () => {
      const r = await command(token, field, input);
      if (r.errors || !r.answer) throw new Error(`${field}: ${JSON.stringify(r.errors)}`);
      return r.answer;
    }, 180_000);
  const login = async (username: string, password: string) => {
    const r = await command(undefined, "login", { username, password });
    const token = (r.answer as { tokens?: { accessToken: string } } | undefined)?.tokens
      ?.accessToken;
    if (!token) throw new Error(`login ${username}: ${JSON.stringify(r.errors)}`);
    return token;
  };
  return { gql, read, command, run, login };
}

/** Retries `check` until it passes: reporting's projections trail the commands (far, under load). */
export const eventually = <T>(check: () => Promise<T>, timeoutMs = 180_000): Promise<T> =>
  retryUntilPasses(check, timeoutMs, 300);
