import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "@otmetka/testing";

const packageRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A test-support main run by node + tsx in its own process, so that it can be SIGKILLed. */
export class ChildMain {
  readonly process: ChildProcess;
  private out = "";
  private readonly exited: Promise<number | null>;

  constructor(
    readonly file: string,
    env: Record<string, string>,
  ) {
    this.process = spawn(process.execPath, ["--import", "tsx", `src/test-support/${file}`], {
      cwd: packageRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-100_000);
    };
    this.process.stdout?.on("data", keep);
    this.process.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => this.process.once("exit", (code) => resolve(code)));
  }

  output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async waitFor(text: string, timeoutMs = 30_000): Promise<void> {
    await eventually(
      `${this.file} to print ${JSON.stringify(text)}:\n${this.out}`,
      () => {
        if (this.out.includes(text)) return true;
        if (!this.running)
          throw new Error(`${this.file} exited before printing ${text}:\n${this.out}`);
        return false;
      },
      timeoutMs,
      50,
    );
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (this.running) this.process.kill(signal);
    return this.exited;
  }

  /** Resolves when the process ended by itself (e.g. it SIGKILLed itself). */
  whenExited(): Promise<number | null> {
    return this.exited;
  }
}

/** @otmetka/testing's waitFor with the patience these fault tests need (30 s, every 100 ms). */
export const eventually = (
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> => waitFor(what, probe, timeoutMs, intervalMs);
