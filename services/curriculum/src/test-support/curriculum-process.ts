import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const serviceDir = fileURLToPath(new URL("../..", import.meta.url));

export interface CurriculumProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output contains `text`; rejects when the process exits first. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
}

/** Runs src/main.ts (through tsx) as a real process, with `env` over a clean base. */
export function startCurriculumProcess(env: Record<string, string>): CurriculumProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const collect = (d: unknown) => {
    out += String(d);
    for (const l of listeners) l();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return {
    child,
    output: () => out,
    waitForOutput(text, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off("exit", onExit);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (out.includes(text)) done();
        };
        const onExit = () => done(new Error(`curriculum exited before "${text}"\n${out}`));
        const timer = setTimeout(
          () => done(new Error(`no "${text}" after ${timeoutMs} ms\n${out}`)),
          timeoutMs,
        );
        listeners.add(check);
        child.once("exit", onExit);
        check();
      });
    },
  };
}
