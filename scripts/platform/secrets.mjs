// Secrets a local run needs but must never have a built-in default for (a default key would be
// the same on every machine): made once, at random, in .otmetka/dev-secrets.json (git-ignored),
// and reused so a second start can still read the data of the first. Environment variables win.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "./infra.mjs";

const file = join(stateDir, "dev-secrets.json");

export function loadSecrets() {
  const key = () => randomBytes(32).toString("base64");
  const made = {
    IDENTITY_MASTER_KEYS: `dev1:${key()}`,
    IDENTITY_BLIND_INDEX_KEY: key(),
    // The first PLATFORM_ADMIN ("admin") of a local run; identity creates it when none exists.
    IDENTITY_BOOTSTRAP_ADMIN_PASSWORD: randomBytes(18).toString("base64url"),
  };
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const secrets = { ...made, ...existing };
  for (const k of Object.keys(made)) if (process.env[k]) secrets[k] = process.env[k];
  if (Object.keys(secrets).length !== Object.keys(existing).length) {
    saveSecrets(secrets);
    console.log(`made local development secrets in ${file} (never use them in production)`);
  }
  return secrets;
}

export function saveSecrets(secrets) {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}
