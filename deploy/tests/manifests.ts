// Reading the manifests: YAML documents of a kustomization's resource files, and each
// Kubernetes object checked against the API schema of its kind (kubernetes-models).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as models from "kubernetes-models";
import { parseAllDocuments } from "yaml";

export const deployDir = fileURLToPath(new URL("..", import.meta.url));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML until validated
  spec?: any;
  data?: Record<string, string>;
}

/** Every YAML document of a file, failing on any parse error or warning. */
export function readYaml(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  return docs.map((d) => {
    if (d.errors.length > 0 || d.warnings.length > 0)
      throw new Error(`${file}: ${[...d.errors, ...d.warnings].map((e) => e.message).join("; ")}`);
    return d.toJS();
  });
}

interface Kustomization {
  kind: string;
  resources?: string[];
  components?: string[];
  patches?: { path: string }[];
}

/** The objects of a kustomization directory's own resource files (not its sub-kustomizations). */
export function resourcesOf(dir: string): { file: string; object: K8sObject }[] {
  const k = readYaml(join(dir, "kustomization.yaml"))[0] as Kustomization;
  const out: { file: string; object: K8sObject }[] = [];
  for (const r of k.resources ?? []) {
    const path = join(dir, r);
    if (!existsSync(path)) throw new Error(`${dir}: resource ${r} does not exist`);
    if (!r.endsWith(".yaml")) continue; // a directory: another kustomization
    for (const object of readYaml(path)) out.push({ file: path, object: object as K8sObject });
  }
  for (const c of k.components ?? [])
    if (!existsSync(join(dir, c, "kustomization.yaml")))
      throw new Error(`${dir}: component ${c} has no kustomization.yaml`);
  for (const p of k.patches ?? [])
    if (!existsSync(join(dir, p.path))) throw new Error(`${dir}: patch ${p.path} does not exist`);
  return out;
}

/** `networking.k8s.io/v1` -> models.networkingK8sIo.v1; `v1` -> models.v1. */
function modelOf(apiVersion: string, kind: string) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const key =
    group === null ? null : group.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase());
  const ns = (key === null ? models : (models as Record<string, unknown>)[key as string]) as
    | Record<string, Record<string, unknown>>
    | undefined;
  const cls = ns?.[version as string]?.[kind] as
    | (new (
        data: unknown,
      ) => { validate(): void })
    | undefined;
  if (!cls) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return cls;
}

/** Throws with the schema's message when `object` does not conform to its kind. */
export function validateObject(object: K8sObject): void {
  const Model = modelOf(object.apiVersion, object.kind);
  new Model(object).validate();
}

/** `kubectl kustomize <dir>` when kubectl is installed (it embeds kustomize), else null. */
export function kustomize(dir: string): K8sObject[] | null {
  const kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].find((p) => existsSync(p));
  if (!kubectl) return null;
  const out = execFileSync(kubectl, ["kustomize", dir], { encoding: "utf8" });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}
