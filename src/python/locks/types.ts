/**
 * The common shape every lock reader produces. `uv.lock`, `pylock.toml`, `poetry.lock` and a
 * hashed `requirements.txt` all say the same thing in different words: which packages, at which
 * versions, from which files (with hashes), under which markers. Readers translate their format
 * into a {@linkcode LockedSet}; {@linkcode selectForTarget} (in `select.ts`) then decides what one
 * target installs, so the installer never needs to know which tool wrote the lock.
 *
 * @module
 */

/** Where a locked package comes from. */
export type LockedSource =
  /** A package index (`url` is the index's simple API, absent for the default index). */
  | { kind: "index"; url?: string }
  /** A direct URL to a wheel or sdist (`pkg @ https://...`). */
  | { kind: "url"; url: string }
  /** A local file or directory, relative to the lock file's directory unless absolute. */
  | { kind: "path"; path: string; editable?: boolean }
  /** A VCS checkout. */
  | {
    kind: "git";
    url: string;
    /** The commit the lock pins, when it records one. */
    commit?: string;
    /** The branch, tag or revision the user asked for. */
    requested?: string;
    /** Subdirectory of the repository holding the project. */
    subdirectory?: string;
  };

/** One distribution file (wheel or sdist) of a locked package. */
export interface LockedFile {
  /** The file name, e.g. `uvloop-0.21.0-cp311-cp311-manylinux_2_17_x86_64.whl`. */
  filename: string;
  /** Where to download it (absent in `poetry.lock`: look it up on the index by name and hash). */
  url?: string;
  /** A local path (pylock.toml `path`, requirements `--find-links` wheels), if that is the source. */
  path?: string;
  /** Hex digests by algorithm; `sha256` is what every tool writes. */
  hashes: { sha256?: string; [algorithm: string]: string | undefined };
  /** Size in bytes, when the lock records it. */
  size?: number;
  /** Upload time (ISO 8601), when the lock records it. */
  uploadTime?: string;
}

/** A package pinned by a lock. */
export interface LockedPackage {
  /** PEP 503-normalised name. */
  name: string;
  /** The pinned version (absent for path/VCS sources that do not record one). */
  version?: string;
  /** Where it comes from. */
  source: LockedSource;
  /** Its wheels and sdists (possibly more than one, for different platforms). */
  files: LockedFile[];
  /**
   * When it is needed, as a PEP 508 marker (PEP 751 markers may use `extras` and
   * `dependency_groups`). Absent means always.
   */
  marker?: string;
  /** `Requires-Python` of the locked release, when recorded. */
  requiresPython?: string;
  /** Its dependencies as PEP 508 requirement strings (informational where the format says so). */
  dependencies?: string[];
  /** Its optional dependencies by extra name, as PEP 508 requirement strings. */
  extras?: Record<string, string[]>;
  /**
   * Digests any file installed for it must match, as `algorithm:hex` (requirements.txt
   * `--hash`, where `files` is empty: the index client lists the release's files and keeps these).
   */
  hashes?: string[];
  /** Where in the lock file it is defined (1-based line), for error messages. */
  line?: number;
  /** The file it is defined in, when not the lock's own path (a `-r` include). */
  file?: string;
}

/** The lock formats pycontainer reads. */
export type LockKind = "uv.lock" | "pylock.toml" | "poetry.lock" | "requirements.txt";

/** Everything a lock file says, in one shape. */
export interface LockedSet {
  /** Which format it was read from. */
  kind: LockKind;
  /** The format's own version (`uv.lock` `version`, `lock-version`), when it has one. */
  formatVersion?: string;
  /** The lock file's path. */
  path: string;
  /** The locked packages, in file order. */
  packages: LockedPackage[];
  /** Index URLs to look files up on, in priority order (empty: the default index, PyPI). */
  indexUrls: string[];
  /** `--no-index`: use no index at all, only `findLinks` (requirements.txt only). */
  noIndex?: boolean;
  /** Constraints that do not pin (requirements.txt `-c`), for the resolver. */
  constraints?: string[];
  /** `--find-links` locations (requirements.txt only). */
  findLinks?: string[];
  /**
   * Requirements that are not pinned (requirements.txt without `==`): this is then not a lock,
   * and these go to the resolver.
   */
  unpinned?: string[];
  /** The lock's `requires-python`, when it records one. */
  requiresPython?: string;
  /** PEP 751 `environments` / uv `supported-environments` markers, when recorded. */
  environments?: string[];
  /**
   * The graph and root of a universal lock (uv.lock, poetry.lock): the selection walks it from
   * the project instead of trusting per-package markers.
   */
  graph?: LockGraph;
  /** Things the reader skipped and the user should hear about (e.g. editable requirements). */
  warnings?: string[];
  /** Extras the lock declares (PEP 751 `extras`, poetry `[extras]`); requesting another is an error. */
  declaredExtras?: string[];
  /** Dependency groups the lock declares; requesting another is an error. */
  declaredGroups?: string[];
  /** The PEP 751 `default-groups` (groups installed when none are requested). */
  defaultGroups?: string[];
  /**
   * The project's extras and groups declared mutually exclusive (uv `conflicts`, from
   * `[tool.uv] conflicts`): each set lists items such as `extra cpu` or `group lint`, and a build
   * may request at most one item of each set.
   */
  exclusive?: string[][];
}

/** A dependency edge in a universal lock. */
export interface LockEdge {
  /** Normalised name of the package depended on. */
  name: string;
  /** The version chosen for this edge, when the lock holds several versions of the name. */
  version?: string;
  /** The marker under which the edge applies (absent: always). */
  marker?: string;
  /** Extras of the target package this edge activates. */
  extras?: string[];
  /**
   * Which versions the edge accepts, used only to choose among several locked versions of the
   * name when `version` is absent (poetry.lock).
   */
  specifier?: (version: string) => boolean;
}

/** A universal lock's dependency graph, walked from the root project by `selectForTarget`. */
export interface LockGraph {
  /** The project's normalised name (edges to it activate its extras instead of a package). */
  projectName?: string;
  /** Dependencies of the project itself (what is installed without extras or groups). */
  root: LockEdge[];
  /** The project's optional dependencies by extra. */
  rootExtras: Record<string, LockEdge[]>;
  /** The project's dependency groups (`dev-dependencies`, poetry groups) by name. */
  rootGroups: Record<string, LockEdge[]>;
  /** Groups installed when none are requested (poetry: `main` only, uv: none here). */
  defaultGroups?: string[];
  /** Each package's edges, keyed by `name==version` (see {@linkcode packageKey}). */
  edges: Record<string, LockEdge[]>;
  /** Each package's optional edges by extra, keyed by `name==version`. */
  extraEdges: Record<string, Record<string, LockEdge[]>>;
}

/**
 * The key of a package in a {@linkcode LockGraph}: its normalised name and version.
 *
 * @param name Normalised name.
 * @param version Version (may be absent for path sources).
 * @returns `name==version`, or `name` when there is no version.
 *
 * @example
 * ```ts
 * import { packageKey } from "./types.ts";
 * console.assert(packageKey("uvloop", "0.21.0") === "uvloop==0.21.0");
 * ```
 */
export function packageKey(name: string, version: string | undefined): string {
  return version === undefined ? name : `${name}==${version}`;
}
