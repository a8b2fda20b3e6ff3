import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "@otmetka/testing";

const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A test-support main (`relay-main.ts`, ...) run by node + tsx as its own process. */
export interface Child {
  process: ChildProcess;
  output: () => string;
  /** Resolves with the signal that ended the process (null when it exited by itself). */
  exited: Promise<NodeJS.Signals | null>;
  /** Resolves when a line of output contains `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnMain(file: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--import", "tsx", `src/test-support/${file}`], {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const l of listeners) l();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  return {
    process: child,
    output: () => out,
    exited,
    waitForOutput: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${file} did not print ${JSON.stringify(text)}; output:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        child.once("exit", (code) => {
          if (!out.includes(text)) {
            clearTimeout(timer);
            reject(new Error(`${file} exited (${code}) before ${JSON.stringify(text)}:\n${out}`));
          }
        });
        check();
      }),
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** @otmetka/testing's waitFor with the patience these fault tests need (30 s, every 100 ms). */
export const eventually = (
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> => waitFor(what, probe, timeoutMs, intervalMs);
