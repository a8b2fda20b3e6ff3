import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";

/*
 * gRPC reflection needs file descriptors, which ts-proto's generated code does not carry.
 * We parse the .proto sources of the buf module with proto-loader at start-up (a few ms for
 * this repo), so a deployed service must ship the proto/ directory next to its code.
 */

/** The buf module directory (the one holding buf.yaml) above `from` (a path or file URL). */
export function findProtoRoot(from: string): string {
  let dir = from.startsWith("file:") ? fileURLToPath(from) : from;
  for (;;) {
    if (existsSync(join(dir, "buf.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no buf.yaml above ${from}: cannot find the proto sources`);
    dir = parent;
  }
}

/** Every .proto file under `protoRoot` (relative paths), skipping node_modules and dot dirs. */
export function listProtoFiles(protoRoot: string): string[] {
  const entries = readdirSync(protoRoot, { recursive: true, encoding: "utf8" });
  return entries
    .filter((f) => f.endsWith(".proto"))
    .filter(
      (f) => !f.split(/[\\/]/).some((part) => part === "node_modules" || part.startsWith(".")),
    )
    .sort();
}

/** A proto-loader package definition of the module's files, as @grpc/reflection wants it. */
export function loadProtoDescriptors(protoRoot: string): PackageDefinition {
  const files = listProtoFiles(protoRoot);
  if (files.length === 0) throw new Error(`no .proto files under ${protoRoot}`);
  return loadSync(files, { includeDirs: [protoRoot] });
}
