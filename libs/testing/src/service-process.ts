import { type ChildProcess, spawn } from "node:child_process";

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything written so far, for assertions and failure messages. */
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stdout contains `text`; rejects if the process exits first or on timeout. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (SIGTERM by default) and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServiceProcessOptions {
  /** Name used in error messages. */
  name: string;
  /** The service's package folder (the child's working directory). */
  cwd: string;
  /** Entry module, run through tsx so tests need no build; default `src/main.ts`. */
  entry?: string;
  /** Variables over a clean base (PATH and HOME only), so nothing leaks from the test run. */
  env: Record<string, string>;
}

// Resolved here, not from the child's folder, so any entry can run without its own tsx.
const tsxLoader = import.meta.resolve("tsx");

/** Starts a service's main module as a real child process, as a deployment would run it. */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const child = spawn(process.execPath, ["--import", tsxLoader, options.entry ?? "src/main.ts"], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += String(d);
  });
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    waitForOutput(text, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`${options.name}: no "${text}" after ${timeoutMs} ms\n${stdout}\n${stderr}`),
          );
        }, timeoutMs);
        const check = () => {
          if (stdout.includes(text)) {
            cleanup();
            resolve();
          }
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`${options.name} exited before "${text}"\n${stdout}\n${stderr}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout?.off("data", check);
          child.off("exit", onExit);
        };
        child.stdout?.on("data", check);
        child.once("exit", onExit);
        check();
      });
    },
  };
}
