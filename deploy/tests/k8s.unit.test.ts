import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployDir, type K8sObject, kustomize, resourcesOf, validateObject } from "./manifests.js";
import { SERVICE_PORTS, serviceConfigErrors } from "./service-config.js";

const k8s = join(deployDir, "k8s");
const dirs = ["base", "components/nats", "components/tracing", "overlays/region"];
const base = resourcesOf(join(k8s, "base")).map((r) => r.object);
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const SERVICES = ["identity", "curriculum", "grades", "reporting", "portal"] as const;

describe("every manifest conforms to the Kubernetes API schema of its kind", () => {
  for (const dir of dirs) {
    it(dir, () => {
      const resources = resourcesOf(join(k8s, dir));
      for (const { file, object } of resources) {
        expect(() => validateObject(object), `${file}: ${object.kind}`).not.toThrow();
      }
    });
  }

  it("the overlay renders with kustomize (kubectl) and every rendered object validates", () => {
    const rendered = kustomize(join(k8s, "overlays/region"));
    // Without kubectl the files are still checked one by one above.
    if (rendered === null) return;
    const kinds = new Set(rendered.map((o) => o.kind));
    for (const k of ["Deployment", "StatefulSet", "Service", "ConfigMap", "NetworkPolicy"])
      expect(kinds).toContain(k);
    expect(kinds).toContain("HorizontalPodAutoscaler");
    expect(kinds).toContain("PodDisruptionBudget");
    for (const o of rendered) expect(() => validateObject(o), o.kind).not.toThrow();
    // The tracing component points the services at the collector.
    const common = rendered.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "otmetka-common",
    );
    expect(common?.data?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://otel-collector:4318");
  });

  it("a broken object is refused (the check can fail)", () => {
    const deployment = byKind(base, "Deployment")[0] as K8sObject;
    const broken = structuredClone(deployment);
    broken.spec.replicas = "two";
    expect(() => validateObject(broken)).toThrow();
    const noContainers = structuredClone(deployment);
    noContainers.spec.template.spec.containers = undefined;
    expect(() => validateObject(noContainers)).toThrow();
  });
});

describe("services", () => {
  const deployments = byKind(base, "Deployment");
  const container = (name: string) =>
    deployments.find((d) => d.metadata.name === name)?.spec.template.spec.containers[0];

  it.each(SERVICES)("%s: gRPC health probes on its port, a Service, an HPA and a PDB", (name) => {
    const c = container(name);
    expect(c, `Deployment ${name}`).toBeDefined();
    const port = SERVICE_PORTS[name];
    const grpcPort = c.ports.find((p: { name: string }) => p.name === "grpc").containerPort;
    expect(grpcPort).toBe(port);
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"])
      expect(c[probe]?.grpc?.port, `${name} ${probe}`).toBe(port);
    const svc = byKind(base, "Service").find((s) => s.metadata.name === name);
    expect(svc?.spec.ports.find((p: { name: string }) => p.name === "grpc")?.port).toBe(port);
    expect(svc?.spec.selector).toEqual({ "app.kubernetes.io/name": name });
    const hpa = byKind(base, "HorizontalPodAutoscaler").find((h) => h.metadata.name === name);
    expect(hpa?.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name });
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = byKind(base, "PodDisruptionBudget").find((p) => p.metadata.name === name);
    expect(pdb?.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": name });
  });

  it.each([...SERVICES, "gateway"])(
    "%s: the environment it gets is one its config accepts, every variable known",
    (name) => {
      const c = container(name);
      const common = base.find(
        (o) => o.kind === "ConfigMap" && o.metadata.name === "otmetka-common",
      );
      const env: Record<string, string> = { ...(common?.data ?? {}) };
      for (const e of c.env as { name: string; value?: string; valueFrom?: unknown }[])
        env[e.name] = e.value ?? `secret:${e.name}`;
      expect(serviceConfigErrors(name, env)).toEqual([]);
    },
  );

  it("the gateway probes yoga's /health over HTTP and is the only public entry", () => {
    const c = container("gateway");
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"])
      expect(c[probe]?.httpGet).toMatchObject({ path: "/health", port: "http" });
    const policies = byKind(base, "NetworkPolicy");
    const deny = policies.find((p) => p.metadata.name === "default-deny-ingress");
    expect(deny?.spec).toMatchObject({ podSelector: {}, policyTypes: ["Ingress"] });
    const internal = policies.find((p) => p.metadata.name === "services-from-platform");
    const guarded = internal?.spec.podSelector.matchExpressions[0].values;
    expect([...guarded].sort()).toEqual([...SERVICES].sort());
    const from = internal?.spec.ingress[0].from[0].podSelector.matchExpressions[0].values;
    expect([...from].sort()).toEqual([...SERVICES, "gateway"].sort());
  });
});

describe("NATS component", () => {
  const objects = resourcesOf(join(k8s, "components/nats")).map((r) => r.object);

  it("three servers in a StatefulSet, routes to each, and services told to make R3 streams", () => {
    const sts = byKind(objects, "StatefulSet")[0] as K8sObject;
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe("nats-cluster");
    const conf = byKind(objects, "ConfigMap")[0]?.data?.["nats.conf"] ?? "";
    for (let i = 0; i < 3; i++) expect(conf).toContain(`nats-${i}.nats-cluster:6222`);
    expect(conf).toMatch(/jetstream\s*\{/);
    const common = base.find((o) => o.metadata.name === "otmetka-common");
    expect(common?.data?.NATS_STREAM_REPLICAS).toBe("3");
    expect(common?.data?.NATS_URL?.split(",")).toHaveLength(3);
    const pdb = byKind(objects, "PodDisruptionBudget")[0];
    expect(pdb?.spec.maxUnavailable).toBe(1);
  });
});
