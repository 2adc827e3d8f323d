/**
 * The flags every command that talks to registries shares (`build`, `push`, `login`), defined
 * once so their names, placeholders and help read the same everywhere.
 *
 * @module
 */
import type { FlagTable } from "./args.ts";

/**
 * `--ca-file PEM` and `--insecure-registry HOST[:PORT]`.
 *
 * @example
 * ```ts
 * import { REGISTRY_TLS_FLAGS } from "./registry_flags.ts";
 * console.assert(REGISTRY_TLS_FLAGS["ca-file"]!.type === "string");
 * ```
 */
export const REGISTRY_TLS_FLAGS: FlagTable = {
  "ca-file": {
    type: "string",
    value: "PEM",
    help: "Also trust this CA for registry HTTPS (env: PYCONTAINER_CA_FILE)",
  },
  "insecure-registry": {
    type: "string",
    multiple: true,
    value: "HOST[:PORT]",
    help: "Use plain HTTP for this registry (loopback registries always do)",
  },
};
