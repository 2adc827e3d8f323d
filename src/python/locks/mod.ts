/**
 * Lock files in, "what to install for this target" out. Four formats are read into one
 * {@linkcode LockedSet}; {@linkcode selectForTarget} picks the packages and the one wheel each
 * that a target installs:
 *
 * ```
 * const found = await findLockFile(context, { prefer: config.lockFile });   // or undefined → resolve
 * const lock = await readLockFile(found);                                     // uv.lock | pylock.toml | poetry.lock | requirements.txt
 * if (lock.unpinned) { ... }                                                  // requirements.txt that is not a lock → resolver
 * const chosen = selectForTarget(lock, { markerEnv, tags, extras, groups });  // [{ package, wheel }]
 * // wheel.url + hashes.sha256 → download; no wheel (poetry has no URLs, requirements.txt no
 * // names) → ask the index for the release's files, keep the allowed hashes, chooseWheel().
 * ```
 *
 * @module
 */

export {
  findLockFile,
  type FindLockOptions,
  type FoundLockFile,
  LOCK_FILE_ORDER,
  lockKindOf,
  readLockFile,
  type ReadLockOptions,
} from "./find_lock_file.ts";
export { walkLockGraph } from "./graph_walk.ts";
export { poetryConstraintToPep440, poetryPythonMarker } from "./poetry_constraint.ts";
export { poetryLegacyGraph } from "./poetry_legacy.ts";
export { parsePoetryLock, poetryMarkerToPep751, readPoetryLock } from "./poetry_lock.ts";
export { parsePylock, readPylock } from "./pylock.ts";
export { type RequirementsLine, splitRequirementsLines } from "./requirements_lines.ts";
export { PYPI_SIMPLE, readRequirementsTxt, type RequirementsOptions } from "./requirements_txt.ts";
export {
  chooseWheel,
  describeTarget,
  type LockTarget,
  type SelectedPackage,
  selectForTarget,
} from "./select.ts";
export type {
  LockedFile,
  LockEdge,
  LockedPackage,
  LockedSet,
  LockedSource,
  LockGraph,
  LockKind,
} from "./types.ts";
export { packageKey } from "./types.ts";
export { parseUvLock, readUvLock, type UvLockOptions } from "./uv_lock.ts";
