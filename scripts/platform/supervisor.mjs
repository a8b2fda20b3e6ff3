// Supervised children with coloured, prefixed logs; a crashed child is restarted after 2 s.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const colours = [36, 35, 33, 32, 34, 31, 96];

export function createSupervisor() {
  const children = new Map();
  let stopping = false;
  let count = 0;
  function run(ws, env) {
    const name = ws.pkg.name.replace("@otmetka/", "");
    const index = count++;
    const prefix = `\x1b[${colours[index % colours.length]}m[${name.padEnd(10)}]\x1b[0m `;
    const start = () => {
      // `node dist/main.js` is spawned directly (not through npm) so its pid is the service's.
      const direct = ws.pkg.scripts.start === "node dist/main.js";
      const child = direct
        ? spawn(process.execPath, ["dist/main.js"], {
            cwd: ws.dir,
            env,
            stdio: ["ignore", "pipe", "pipe"],
          })
        : spawn("npm", ["run", "--silent", "start"], {
            cwd: ws.dir,
            env,
            stdio: ["ignore", "pipe", "pipe"],
          });
      pipe(child.stdout, process.stdout, prefix);
      pipe(child.stderr, process.stderr, prefix);
      children.set(name, child);
      child.on("exit", (code, signal) => {
        children.delete(name);
        if (stopping) return;
        console.error(`${prefix}exited (${signal ?? code}); restarting in 2 s`);
        setTimeout(() => !stopping && start(), 2000);
      });
    };
    start();
  }
  function stopAll() {
    stopping = true;
    for (const child of children.values()) child.kill("SIGTERM");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const child of children.values()) child.kill("SIGKILL");
        resolve();
      }, 15_000);
      const check = setInterval(() => {
        if (children.size > 0) return;
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }, 100);
    });
  }
  return { run, stopAll, pids: () => [...children.values()].map((c) => c.pid) };
}

function pipe(stream, out, prefix) {
  let rest = "";
  stream.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop();
    for (const line of lines) out.write(`${prefix}${line}\n`);
  });
}

/** Sum of VmRSS of the given processes (Linux /proc), in MB. */
export function platformRssMb(pids) {
  let kb = 0;
  for (const pid of pids.flat().filter(Boolean)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch {}
  }
  return Math.round(kb / 1024);
}
