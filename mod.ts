/**
 * pycontainer: build OCI images for Python projects without Docker, a Dockerfile, pip or
 * Python on the host. It reads the project (pyproject.toml, source layout, entry points,
 * framework), pulls a Python base image from any OCI registry, adds the app as deterministic,
 * gzip-compressed layers, and writes an OCI image layout that any runtime can run.
 *
 * The same API runs on Deno, Bun and Node and produces the same image digests on all three.
 *
 * @example Build the project in the current directory
 * ```ts ignore
 * import { ImageBuilder } from "@x/pycontainer";
 * const result = await new ImageBuilder({ tags: ["myapp:latest"] }).build();
 * console.log(`${result.tags[0]} → ${result.digest} in ${result.output}`);
 * ```
 *
 * @example The same as a function, with progress
 * ```ts ignore
 * import { build } from "@x/pycontainer";
 * await build({ context: "myapp", onEvent: (e) => e.type === "info" && console.error(e.message) });
 * ```
 *
 * @example Build, then push to the registries in the tags with the user's usual credentials
 * ```ts ignore
 * import { credentialChain, ImageBuilder, pushImage, RegistryClient } from "@x/pycontainer";
 * // registryOnly: no local OCI layout, and cached layers the registry already has are never rebuilt.
 * const built = await new ImageBuilder({ tags: ["ghcr.io/acme/api:1.4.2"], registryOnly: true })
 *   .build();
 * const client = new RegistryClient({ credentials: credentialChain() });
 * const pushed = await pushImage(built.blobs, built.descriptor, built.tags, { client });
 * console.log(pushed.repositories.map((r) => r.reference)); // the CLI: build --push
 * ```
 *
 * @example Push an OCI layout written earlier
 * ```ts ignore
 * import { credentialChain, pushImage, readOciLayout, RegistryClient } from "@x/pycontainer";
 * const layout = await readOciLayout("dist/image");
 * const client = new RegistryClient({ credentials: credentialChain() });
 * await pushImage(layout.blobs, layout.resolve("latest"), ["ghcr.io/acme/api:latest"], { client });
 * ```
 *
 * Run as a program (`deno run -A jsr:@x/pycontainer build`), this module runs the CLI.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

export { build } from "./src/build/build.ts";
export type { BuildRequest, BuildResult, BuiltImage, BuiltLayer } from "./src/build/build.ts";
export { ImageBuilder } from "./src/build/image_builder.ts";
export type { ImageBuilderOptions } from "./src/build/image_builder.ts";
export type { BuildEvent, BuildEventSink } from "./src/build/events.ts";
export type { BuildPlan } from "./src/build/plan.ts";
export type { BuildConfig, BuildOptions, RegistryOptions } from "./src/config/types.ts";
export { pushImage } from "./src/registry/push.ts";
export type { PushOptions, PushResult } from "./src/registry/push.ts";
export { credentialChain } from "./src/registry/credential_chain.ts";
export { RegistryClient } from "./src/registry/client.ts";
export type { RegistryClientOptions } from "./src/registry/client.ts";
export { readOciLayout } from "./src/store/layout_reader.ts";
export type { BlobSource } from "./src/store/blob_source.ts";
export type { Descriptor } from "./src/oci/types.ts";
export { PycontainerError } from "./src/errors.ts";
export { VERSION } from "./src/version.ts";
export { main } from "./cli.ts";

function runDirectly(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  try {
    return !!process.argv[1] &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (runDirectly()) {
  const { main } = await import("./cli.ts");
  process.exitCode = await main(process.argv.slice(2));
}
