/**
 * Project introspection: what is in a Python project directory and how to run it. One reader
 * does the I/O; everything after it is a pure function of the facts it returns.
 *
 * ```
 * const { facts, files } = await readProject(context, { outputDir });
 * const python = projectPythonVersion(facts);          // "3.12" + reason
 * const run = detectCommand(facts, { workdir: "/app" }); // entrypoint/cmd, ports, env, labels
 * // app layer: files.entries (paths relative to the workdir) plus run.launcher, if any
 * // --verbose: files.excluded (path + reason), files.warnings, python.reason, run.reason
 * ```
 *
 * @module
 */

export { type ProjectFacts, projectPythonVersion, type ProjectRead, readProject } from "./facts.ts";
export {
  type GroupItem,
  type LicenseInfo,
  normalizeName,
  parsePyproject,
  type PyprojectFacts,
  readPyproject,
  requirementName,
} from "./pyproject.ts";
export {
  choosePythonVersion,
  DEFAULT_PYTHON,
  MAINTAINED_PYTHONS,
  parsePythonVersionFile,
  type PythonChoice,
  type PythonVersionInputs,
} from "./python_version.ts";
export {
  type AppFiles,
  collectAppFiles,
  type CollectOptions,
  type ExcludedPath,
} from "./app_files.ts";
export {
  buildIgnoreRules,
  decideIgnore,
  DEFAULT_IGNORE_PATTERNS,
  type IgnoreRules,
  parseIgnoreFile,
} from "./ignore_rules.ts";
export { detectLayout, type PythonPackage, type SourceLayout } from "./layout.ts";
export { detectCommand, type DetectedCommand, type DetectOptions } from "./command.ts";
export { FRAMEWORK_ORDER, type FrameworkName } from "./frameworks.ts";
export { LAUNCHER_DIR } from "./launcher.ts";
export { shellSplit } from "./shell_split.ts";
