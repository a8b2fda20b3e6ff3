// `npm start`: builds what is missing, then runs every service that exists as a supervised
// child process with prefixed logs. Ctrl-C stops them all. (The full launcher with embedded
// PostgreSQL/NATS and the demo region comes with the platform's later issues.)
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root, workspaces } from "./workspaces.mjs";

/**
 * Secrets a local run needs but must never have a built-in default for (a default key would be
 * the same on every machine): made once, at random, in .otmetka/dev-secrets.json (git-ignored),
 * and reused so a second start can still read the data of the first. Variables set in the
 * environment win.
 */
function localSecrets() {
  const dir = join(root, ".otmetka");
  const file = join(dir, "dev-secrets.json");
  const key = () => randomBytes(32).toString("base64");
  const made = {
    IDENTITY_MASTER_KEYS: `dev1:${key()}`,
    IDENTITY_BLIND_INDEX_KEY: key(),
    // The first PLATFORM_ADMIN ("admin") of a local run; identity creates it when none exists.
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: randomBytes(18).toString("base64url"),
  };
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  // Keys added since the file was made are filled in; existing ones are never replaced.
  const secrets = { ...made, ...existing };
  if (Object.keys(secrets).length !== Object.keys(existing).length) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    console.log(`made local development secrets in ${file} (never use them in production)`);
  }
  return secrets;
}

const env = { ...localSecrets(), ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const build = spawnSync("npx", ["turbo", "run", "build", "--output-logs=errors-only"], {
  cwd: root,
  stdio: "inherit",
  env,
});
if (build.status !== 0) process.exit(build.status ?? 1);

const services = workspaces().filter(
  ({ dir, pkg }) =>
    dir.includes("/services/") && pkg.scripts?.start && existsSync(join(dir, "dist")),
);
if (services.length === 0) {
  console.error("no service to start");
  process.exit(1);
}

const children = new Map();
let stopping = false;
const colours = [36, 35, 33, 32, 34, 31];

function run({ dir, pkg }, index) {
  const name = pkg.name.replace("@otmetka/", "");
  const prefix = `\x1b[${colours[index % colours.length]}m[${name}]\x1b[0m `;
  const child = spawn("npm", ["run", "--silent", "start"], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pipe = (stream, out) => {
    let rest = "";
    stream.on("data", (chunk) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop();
      for (const line of lines) out.write(`${prefix}${line}\n`);
    });
  };
  pipe(child.stdout, process.stdout);
  pipe(child.stderr, process.stderr);
  children.set(name, child);
  child.on("exit", (code, signal) => {
    children.delete(name);
    if (stopping) return;
    console.error(`${prefix}exited (${signal ?? code}); restarting in 2 s`);
    setTimeout(() => run({ dir, pkg }, index), 2000);
  });
}

services.forEach(run);
console.log(`started: ${services.map(({ pkg }) => pkg.name).join(", ")} (Ctrl-C stops)`);

function stop() {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill("SIGTERM");
  const timer = setTimeout(() => process.exit(1), 15_000);
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      clearTimeout(timer);
      process.exit(0);
    }
  }, 100);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
