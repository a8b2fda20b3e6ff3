// Preloaded with `node --import` (BENCH_PROFILE_DIR): Node 20 refuses --cpu-prof in
// NODE_OPTIONS, so this starts the V8 profiler through the inspector and writes
// <dir>/<pid>.cpuprofile when the process exits (a same-thread session answers synchronously).
// BENCH_PROFILE_FROM=SIGUSR2 starts it on that signal instead, to leave start-up and set-up out.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    session.post("Profiler.start");
  };
  if (process.env.BENCH_PROFILE_FROM === "SIGUSR2") process.on("SIGUSR2", start);
  else start();
  process.on("exit", () => {
    if (!started) return;
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(result.profile));
    });
  });
}
