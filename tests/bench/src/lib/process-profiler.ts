/**
 * The V8 CPU profiler of a bench child process (a service alone in its process, so its CPU
 * can be read apart from the load's). With a directory it samples every 0.5 ms from `start()`
 * — at once, or on SIGUSR2 to leave start-up out — and `write()` puts
 * `<dir>/<label>-<pid>.cpuprofile` there; without one both do nothing.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

export interface ProcessProfiler {
  write(): Promise<void>;
}

export function processProfiler(
  dir: string | undefined,
  label: string,
  startOn: "now" | "SIGUSR2",
): ProcessProfiler {
  if (!dir) return { write: async () => {} };
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  if (startOn === "now") session.post("Profiler.start");
  else process.on("SIGUSR2", () => session.post("Profiler.start"));
  return {
    write: () =>
      new Promise<void>((resolve) => {
        session.post("Profiler.stop", (err, result) => {
          if (!err) {
            const file = `${dir}/${label}-${process.pid}.cpuprofile`;
            writeFileSync(file, JSON.stringify(result.profile));
          }
          resolve();
        });
      }),
  };
}

/**
 * The V8 sampling heap profiler from SIGUSR2, keeping what survived young-generation
 * collections (what old space and major GCs pay for), collected since or not; `write()` puts
 * `<dir>/<label>-<pid>.heapprofile` there. Without a directory both do nothing.
 */
export function promotedAllocations(dir: string | undefined, label: string): ProcessProfiler {
  if (!dir) return { write: async () => {} };
  const session = new Session();
  session.connect();
  process.on("SIGUSR2", () =>
    session.post("HeapProfiler.startSampling", {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
    } as never),
  );
  return {
    write: () =>
      new Promise<void>((resolve) => {
        session.post("HeapProfiler.stopSampling", (err, result) => {
          if (!err)
            writeFileSync(
              `${dir}/${label}-${process.pid}.heapprofile`,
              JSON.stringify(result.profile),
            );
          resolve();
        });
      }),
  };
}
