/**
 * The resolver's inputs and outputs: what it needs from an index, the target it resolves for,
 * its options and progress events, and the resolution it returns (one wheel per package, with
 * who asked for it and why). Kept apart from the algorithm in `resolver.ts` so callers (the build,
 * the lock writer, the CLI's printout) can depend on the shapes alone.
 *
 * @module
 */

import type { CoreMetadata } from "./core_metadata.ts";
import type { ProjectFiles } from "./index_client.ts";
import type { MarkerEnvironment } from "./markers.ts";
import type { Candidate } from "./resolver_candidates.ts";

/** The index operations the resolver needs (an `IndexClient` provides them). */
export interface ResolverIndex {
  /** The files of a project, or undefined when no index has it. */
  projectFiles(name: string): Promise<ProjectFiles | undefined>;
  /** The core metadata of a wheel. */
  coreMetadata(
    file: Candidate["wheel"],
    expected: { name: string; version: string },
  ): Promise<CoreMetadata>;
  /**
   * The file a direct reference (`name @ URL`) names, listed like an index file with its sha256.
   * Without it, direct references are refused.
   */
  directFile?(name: string, url: string): Promise<Candidate["wheel"]>;
}

/** The environment packages are resolved for. */
export interface ResolveTarget {
  /** PEP 508 marker values of the target interpreter. */
  readonly markerEnv: MarkerEnvironment;
  /** Compatible wheel tags, best first. */
  readonly tags: readonly string[];
  /** The interpreter's full version, e.g. `3.11.7`. */
  readonly pythonFullVersion: string;
}

/** Progress of a resolution. */
export type ResolveEvent =
  | { kind: "pin"; name: string; version: string }
  | { kind: "reject"; name: string; version: string; reason: string }
  | { kind: "backjump"; name: string; version: string; causes: string[] };

/** Options for {@linkcode resolve}. */
export interface ResolveOptions {
  /** PEP 508 requirements (e.g. `[project.dependencies]` with extras already chosen). */
  requirements: readonly string[];
  /** The target. */
  target: ResolveTarget;
  /** Where packages come from. */
  index: ResolverIndex;
  /** `allow` pre-releases everywhere, `if-necessary` (default: PEP 440 rules), `disallow`. */
  prereleases?: "allow" | "if-necessary" | "disallow";
  /** Where the requirements come from, for messages (default `the requirements`). */
  source?: string;
  /** Give up after this many backjumps (default 2000). */
  maxBackjumps?: number;
  /** Progress callback. */
  onEvent?: (event: ResolveEvent) => void;
}

/** One chosen package. */
export interface ResolvedPackage {
  /** Normalised name. */
  readonly name: string;
  /** The name as the package's metadata spells it. */
  readonly displayName: string;
  /** Version chosen. */
  readonly version: string;
  /** The wheel to install. */
  readonly wheel: Candidate["wheel"];
  /** The index it came from (simple URL). */
  readonly indexUrl: string;
  /** The package's own requirements that apply to the target (PEP 508 text). */
  readonly requires: readonly string[];
  /** Normalised names of the resolved packages it depends on. */
  readonly dependencies: readonly string[];
  /** Extras requested of it. */
  readonly extras: readonly string[];
  /** Who asked for it: normalised names, `<root>` for the top-level requirements. */
  readonly requiredBy: readonly string[];
  /** How it was reached: the requirement texts (with markers) from the root down to it. */
  readonly path: readonly string[];
  /** Its `Requires-Python`, if any. */
  readonly requiresPython: string | undefined;
}

/** The result of {@linkcode resolve}. */
export interface Resolution {
  /** Chosen packages, sorted by name. */
  readonly packages: readonly ResolvedPackage[];
  /** The requirements resolved. */
  readonly requirements: readonly string[];
  /** The target python version. */
  readonly pythonFullVersion: string;
  /** Counters: rounds, backjumps, metadata files read. */
  readonly stats: { rounds: number; backjumps: number; metadata: number };
}
