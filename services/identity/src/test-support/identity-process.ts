import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const serviceDir = fileURLToPath(new URL("../..", import.meta.url));

export interface IdentityProcess {
  child: ChildProcess;
  /** Everything written so far (stdout and stderr), for assertions and failure messages. */
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a stdout line contains `text`; rejects if the process exits first. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
}

/** Starts the identity's main.ts as a real process (through tsx), with `env` over a clean base. */
export function startIdentityProcess(env: Record<string, string>): IdentityProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
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
    waitForOutput(text, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no "${text}" after ${timeoutMs} ms\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const check = () => {
          if (stdout.includes(text)) {
            cleanup();
            resolve();
          }
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`identity exited before "${text}"\n${stdout}\n${stderr}`));
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
