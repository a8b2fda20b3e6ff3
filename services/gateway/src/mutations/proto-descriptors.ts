import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createFileRegistry, type FileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

let registry: FileRegistry | undefined;

/**
 * The protos' descriptors, comments included: the image `buf build` writes beside the
 * generated code when @otmetka/proto is built (its export `./otmetka.binpb`). Read once.
 */
export function protoRegistry(): FileRegistry {
  if (!registry) {
    const file = createRequire(import.meta.url).resolve("@otmetka/proto/otmetka.binpb");
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(file)));
  }
  return registry;
}
