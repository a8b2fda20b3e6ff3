import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { deployDir } from "./manifests.js";
import { SERVICE_PORTS, serviceConfigErrors } from "./service-config.js";

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown>;
}

const dir = join(deployDir, "compose");
const compose = parse(readFileSync(join(dir, "compose.yaml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const APP = ["identity", "curriculum", "grades", "reporting", "portal", "gateway"];

/** `${VAR:?msg}` / `${VAR:-default}` / `${VAR}` as compose would fill them from .env. */
const interpolate = (v: string) =>
  String(v).replace(/\$\{([A-Z_]+)[^}]*\}/g, (_, name: string) => `secret:${name}`);

describe("compose file", () => {
  it("has PostgreSQL, three NATS servers in one JetStream cluster, a collector, Jaeger and every service", () => {
    for (const s of ["postgres", "nats-1", "nats-2", "nats-3", "otel-collector", "jaeger", ...APP])
      expect(Object.keys(compose.services)).toContain(s);
    const conf = readFileSync(join(dir, "nats.conf"), "utf8");
    for (const n of [1, 2, 3]) expect(conf).toContain(`nats-route://nats-${n}:6222`);
    expect(conf).toMatch(/jetstream\s*\{/);
  });

  it("every mounted file and the Dockerfile exist", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0] as string;
        if (source.startsWith("./"))
          expect(existsSync(join(dir, source)), `${name}: ${v}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: ${v}`).toContain(source);
      }
      if (s.build) expect(existsSync(join(dir, s.build.context, s.build.dockerfile))).toBe(true);
    }
  });

  it.each(APP)("%s: runs its own service with an environment its config accepts", (name) => {
    const s = compose.services[name] as ComposeService;
    expect(s.command).toEqual([name]);
    expect(s.build?.dockerfile).toBe("deploy/compose/Dockerfile");
    const env = Object.fromEntries(
      Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
    );
    expect(env.NATS_STREAM_REPLICAS).toBe("3");
    expect(env.NATS_URL?.split(",")).toHaveLength(3);
    if (name !== "gateway") {
      expect(env.GRPC_PORT).toBe(String(SERVICE_PORTS[name]));
      expect(env.DATABASE_URL).toContain(`/otmetka_${name}`);
    }
    expect(serviceConfigErrors(name, env)).toEqual([]);
  });

  it("a misspelt variable or a refused value is reported (the check can fail)", () => {
    const errors = serviceConfigErrors("grades", {
      GRPC_PORTT: "50053",
      NATS_STREAM_REPLICAS: "9",
    });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("GRPC_PORTT: not a variable of grades");
    expect(errors[1]).toContain("NATS_STREAM_REPLICAS");
  });

  it("creates one database per service", () => {
    const sql = readFileSync(join(dir, "postgres-init.sql"), "utf8");
    for (const name of APP.filter((n) => n !== "gateway"))
      expect(sql).toContain(`CREATE DATABASE otmetka_${name};`);
  });
});
