/**
 * Image references (`python:3.11-slim`, `ghcr.io/acme/api:1.4.2`, `localhost:5000/x@sha256:…`)
 * parsed with Docker's normalisation, so a name means here what it means to `docker pull`:
 * a first path component is a registry only when it contains `.` or `:`, is `localhost`, or has
 * upper-case letters; otherwise the image is on Docker Hub (`docker.io`), and a single-component
 * Docker Hub name gets the `library/` prefix. The grammar checked is distribution's
 * `reference` grammar (lower-case path components separated by `.`, `_`, `__` or dashes; tags
 * of up to 128 word characters; `sha256` digests).
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { digestProblem } from "./digest.ts";

/** Docker Hub's canonical registry name, as it appears in normalised references. */
export const DOCKER_HUB_REGISTRY = "docker.io";
/** The host that actually serves Docker Hub's distribution API. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** Registry host with optional port, e.g. `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path, e.g. `library/python`, `acme/api`. */
  repository: string;
  /** Tag, e.g. `3.11-slim`; `latest` when neither tag nor digest was given. */
  tag?: string;
  /** Digest, `sha256:<hex>`; when present it wins over the tag for pulls. */
  digest?: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;
const HINT =
  "use [REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. python:3.11-slim or ghcr.io/acme/app:1.0";

/**
 * Parses an image reference with Docker's normalisation rules.
 *
 * @param input The reference as the user wrote it.
 * @param options `defaultTag: false` keeps the tag undefined when none was written
 *   (default: `latest` is filled in when there is neither tag nor digest).
 * @returns The normalised reference.
 * @throws {PycontainerError} exit code 2: `invalid image reference "X": <why>`.
 *
 * @example Docker Hub short names
 * ```ts
 * import { parseReference } from "./reference.ts";
 * const ref = parseReference("python:3.11-slim");
 * console.assert(ref.registry === "docker.io" && ref.repository === "library/python");
 * console.assert(ref.tag === "3.11-slim");
 * ```
 */
export function parseReference(
  input: string,
  options: { defaultTag?: boolean } = {},
): ImageReference {
  const fail = (why: string): never => {
    throw new PycontainerError(`invalid image reference "${input}": ${why}`, {
      hint: HINT,
      exitCode: 2,
    });
  };
  if (input === "") fail("it is empty");
  if (/\s/.test(input)) fail("it contains whitespace");

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(problem);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/") && !rest.slice(colon).includes("]")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      fail(
        tag === ""
          ? 'the tag after ":" is empty'
          : `invalid tag "${tag}" (up to 128 letters, digits, "_", "." or "-", not starting with "." or "-")`,
      );
    }
  }
  if (rest === "") fail("the repository name is empty");

  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  const hasDomain = slash !== -1 &&
    (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first);
  let registry = hasDomain ? first : DOCKER_HUB_REGISTRY;
  let repository = hasDomain ? rest.slice(slash + 1) : rest;

  if (hasDomain && !DOMAIN.test(registry)) fail(`invalid registry host "${registry}"`);
  if (registry === "index.docker.io") registry = DOCKER_HUB_REGISTRY;
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes("/")) {
    repository = `library/${repository}`;
  }
  for (const component of repository.split("/")) {
    if (component === "") fail("the repository path has an empty component");
    if (!PATH_COMPONENT.test(component)) {
      fail(
        component.toLowerCase() !== component
          ? `repository name "${repository}" must be lowercase`
          : `invalid repository path component "${component}" (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined && options.defaultTag !== false) tag = "latest";

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * Formats a reference back to a string: fully qualified by default
 * (`docker.io/library/python:3.11-slim`), or Docker's short "familiar" form (`python:3.11-slim`).
 *
 * @param ref The reference.
 * @param options `familiar: true` drops `docker.io/` and `library/`.
 * @returns The reference string.
 *
 * @example
 * ```ts
 * import { formatReference, parseReference } from "./reference.ts";
 * const ref = parseReference("python:3.11-slim");
 * console.assert(formatReference(ref) === "docker.io/library/python:3.11-slim");
 * console.assert(formatReference(ref, { familiar: true }) === "python:3.11-slim");
 * ```
 */
export function formatReference(ref: ImageReference, options: { familiar?: boolean } = {}): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (options.familiar && ref.registry === DOCKER_HUB_REGISTRY) {
    name = ref.repository.startsWith("library/") && ref.repository.split("/").length === 2
      ? ref.repository.slice("library/".length)
      : ref.repository;
  }
  return name + (ref.tag === undefined ? "" : `:${ref.tag}`) +
    (ref.digest === undefined ? "" : `@${ref.digest}`);
}

/**
 * The manifest reference to ask a registry for: the digest when there is one, else the tag.
 *
 * @param ref The reference.
 * @returns A digest or tag (`latest` when neither is set).
 *
 * @example
 * ```ts
 * import { manifestReference, parseReference } from "./reference.ts";
 * console.assert(manifestReference(parseReference("python")) === "latest");
 * ```
 */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/**
 * The host that serves a registry's API: `registry-1.docker.io` for Docker Hub, otherwise the
 * registry name itself.
 *
 * @param registry Registry name from a reference.
 * @returns Host with optional port.
 *
 * @example
 * ```ts
 * import { registryApiHost } from "./reference.ts";
 * console.assert(registryApiHost("docker.io") === "registry-1.docker.io");
 * console.assert(registryApiHost("localhost:5000") === "localhost:5000");
 * ```
 */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY || registry === "index.docker.io"
    ? DOCKER_HUB_API_HOST
    : registry;
}
