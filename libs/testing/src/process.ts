import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";

/** Finds an executable on PATH or in the usual system folders. */
export function findExecutable(name: string, extraDirs: string[] = []): string | null {
  const dirs = [
    ...(process.env.PATH ?? "").split(":"),
    "/usr/sbin",
    "/usr/local/bin",
    ...extraDirs,
  ];
  for (const dir of dirs) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

export async function freePort(): Promise<number> {
  const { default: getPort } = await import("get-port");
  return getPort({ host: "127.0.0.1" });
}

/**
 * Polls `probe` until it answers true; a probe that throws counts as "not yet" (a server still
 * starting refuses connections). After `timeoutMs` it throws naming `what`, with the last
 * error the probe threw, if any.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const why =
    last === undefined
      ? ""
      : ` (last error: ${last instanceof Error ? last.message : String(last)})`;
  throw new Error(`${what}: not true within ${timeoutMs} ms${why}`);
}

/**
 * Retries `check` until it stops throwing and returns its value; after `timeoutMs` the last
 * failure is thrown as it is, so the test reports what was still wrong (read models, replicas
 * and relays catch up asynchronously).
 */
export async function eventually<T>(
  check: () => Promise<T>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A server child process that can be stopped gently, killed hard and started again. */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private output = "";

  constructor(
    private readonly label: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly options: SpawnOptions = {},
  ) {}

  start(): void {
    if (this.child) throw new Error(`${this.label} is already running`);
    const child = spawn(this.command, this.args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...this.options,
    });
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-8000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("exit", () => {
      if (this.child === child) this.child = null;
    });
    this.child = child;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** The last lines the server printed, for error messages. */
  get recentOutput(): string {
    return this.output;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  /** Simulates a crash: no shutdown work at all. */
  kill(): Promise<void> {
    return this.stop("SIGKILL");
  }
}

export function userIds(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
  return { uid, gid };
}

/** The error of a promise that must fail; fails the test when it resolves. */
export function rejectionOf<E = Error>(p: Promise<unknown>): Promise<E> {
  return p.then(
    () => {
      throw new Error("expected the call to fail, and it succeeded");
    },
    (e: E) => e,
  );
}
