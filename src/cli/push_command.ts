/**
 * `pycontainer push LAYOUT REF...`: pushes an image from an OCI layout directory (what
 * `pycontainer build` wrote) to one or more references, printing `REGISTRY/REPO@sha256:…` per
 * repository on stdout. {@linkcode pushLayoutWithFlags} is shared with `build --push`: it makes
 * the registry client (credential chain, `--ca-file`, insecure hosts, `--verbose` events) and
 * the progress output (live lines on a terminal, plain lines in CI, nothing with `--quiet`,
 * JSON lines with `--json`).
 *
 * `build` imports this module for `--push`, so the push machinery (credential chain, progress,
 * uploads) is imported only when a push actually runs: a build that doesn't push doesn't pay
 * for loading it.
 *
 * @module
 */
import { resolve } from "node:path";
import { PycontainerError, usageError } from "../errors.ts";
import { RegistryClient, type RegistryEvent } from "../registry/client.ts";
import type { pushImage, PushResult } from "../registry/push.ts";
import { caFetch, readCaFile } from "../registry/tls_fetch.ts";
import { readOciLayout, REF_NAME_ANNOTATION } from "../store/layout_reader.ts";
import type { Descriptor } from "../oci/types.ts";
import { parseManifest } from "../oci/manifest.ts";
import { parseReference } from "../oci/reference.ts";
import { type BlobSource, chainBlobSources, readBlob } from "../store/blob_source.ts";
import { type FlagTable, listFlag, type ParsedFlags, parseFlags, stringFlag } from "./args.ts";
import { REGISTRY_TLS_FLAGS } from "./registry_flags.ts";
import type { CliIo, Subcommand } from "./io.ts";

/** Flags shared by `push` and `build --push`. */
export const PUSH_AUTH_FLAGS: FlagTable = {
  jobs: { type: "string", short: "j", value: "N", help: "Blobs uploaded at once (default 4)" },
  username: { type: "string", short: "u", value: "USER", help: "Registry user name" },
  "password-stdin": {
    type: "boolean",
    help: "Read the registry password or token from standard input",
  },
};

const FLAGS: FlagTable = {
  image: {
    type: "string",
    value: "TAG",
    help: "Which image of the layout (its ref name), when it holds several",
  },
  ...PUSH_AUTH_FLAGS,
  ...REGISTRY_TLS_FLAGS,
  "chunk-size": {
    type: "string",
    value: "BYTES",
    help:
      "Upload blobs bigger than this in PATCH chunks of this size (default: blobs over 8 MiB in one streamed PATCH)",
  },
  json: { type: "boolean", help: "Progress as JSON lines on stderr, the result as JSON on stdout" },
  verbose: { type: "boolean", short: "v", help: "Show requests, retries and credential sources" },
  quiet: { type: "boolean", short: "q", help: "Print nothing but errors and the result" },
};

/** The `push` subcommand. */
export const pushCommand: Subcommand = {
  summary: "Push an image from an OCI layout to a registry",
  usage: "Usage: pycontainer push [flags] LAYOUT REF...",
  flags: FLAGS,
  run: runPush,
};

async function runPush(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("push", FLAGS, argv);
  const [layoutDir, ...refs] = positionals;
  if (layoutDir === undefined || refs.length === 0) {
    throw usageError(
      "push needs an OCI layout directory and at least one reference",
      "e.g. pycontainer push dist/image ghcr.io/acme/api:1.4.2",
    );
  }
  const layout = await readOciLayout(resolve(layoutDir));
  const root = pickImage(layout.dir, layout.index.manifests, stringFlag(values, "image"), refs);
  const result = await pushLayoutWithFlags({ blobs: layout.blobs, root, tags: refs, values, io });
  if (values.json === true) io.stdout(JSON.stringify(resultJson(result), null, 2));
  else for (const r of result.repositories) io.stdout(r.reference);
  return 0;
}

/** What {@linkcode pushLayoutWithFlags} pushes. */
export interface PushWithFlagsRequest {
  /** Where the blobs are (an OCI layout's). */
  blobs: Parameters<typeof pushImage>[0];
  /** The manifest or index to push. */
  root: Descriptor;
  /** Target references. */
  tags: readonly string[];
  /** Parsed flags (`jobs`, `username`, `password-stdin`, `ca-file`, `insecure-registry`, `json`, `quiet`, `verbose`, `chunk-size`). */
  values: ParsedFlags;
  /** Output and environment. */
  io: CliIo;
}

/**
 * Pushes with the client, credentials and progress output the flags ask for.
 *
 * @param request What to push, the flags and the output.
 * @returns The push result.
 * @throws {PycontainerError} For bad flags (exit 2) or registry failures (exit 1).
 *
 * @example
 * ```ts ignore
 * import { pushLayoutWithFlags } from "./push_command.ts";
 * const r = await pushLayoutWithFlags({ blobs, root, tags: ["localhost:5000/a:1"], values: {}, io });
 * ```
 */
export async function pushLayoutWithFlags(request: PushWithFlagsRequest): Promise<PushResult> {
  const { values, io } = request;
  const verbose = values.verbose === true;
  const jobs = _positiveInt(stringFlag(values, "jobs"), "--jobs", 4);
  const chunkText = stringFlag(values, "chunk-size");
  const chunkSize = chunkText === undefined
    ? undefined
    : _positiveInt(chunkText, "--chunk-size", 0);
  const username = stringFlag(values, "username");
  let password: string | undefined;
  if (values["password-stdin"] === true) {
    if (username === undefined) {
      throw usageError(
        "--password-stdin needs --username",
        "e.g. --username acme --password-stdin",
      );
    }
    const { readPasswordStdin } = await import("./login_command.ts");
    password = await readPasswordStdin(io);
  } else if (username !== undefined) {
    throw usageError(
      "--username needs --password-stdin",
      `e.g. echo "$TOKEN" | pycontainer ... --username ${username} --password-stdin`,
    );
  }
  const [{ groupByRepository, pushImage }, { progressMode, PushProgress }] = await Promise.all([
    import("../registry/push.ts"),
    import("../registry/progress.ts"),
  ]);
  const groups = groupByRepository(request.tags);
  const progress = new PushProgress(
    progressMode(
      { quiet: values.quiet === true, json: values.json === true, isTTY: io.isTTY },
      io.env,
    ),
    io.stderr,
  );
  const client = await makeRegistryClient({
    io,
    values,
    pushRegistries: groups.map((g) => g.registry),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    onCredential: (registry, source) => {
      if (verbose) io.stderr(`credentials for ${registry}: ${source}`);
      else if (values.json === true) progress.event({ type: "credential", registry, source });
    },
  });
  const blobs = chainBlobSources(
    request.blobs,
    await baseRegistrySource(request.blobs, request.root, client),
  );
  const result = await pushImage(blobs, request.root, request.tags, {
    client,
    jobs,
    ...(chunkSize === undefined ? {} : { chunkSize }),
    onEvent: (e) => progress.event(e),
  });
  progress.finish();
  return result;
}

/**
 * A blob source for blobs a layout lacks: the base image's registry, named by the manifest's
 * `org.opencontainers.image.base.name` annotation. Blobs are streamed from there straight into
 * the upload, never held whole. Layouts written by `pycontainer build` hold every blob, so this
 * only matters for layouts made by other tools (or pruned by hand).
 *
 * @param local The layout's blobs.
 * @param root The manifest (or index) being pushed.
 * @param client The registry client.
 * @returns A source that fetches from the base image's repository (empty when there is none).
 *
 * @example
 * ```ts ignore
 * import { baseRegistrySource } from "./push_command.ts";
 * const fallback = await baseRegistrySource(layout.blobs, root, client);
 * ```
 */
export async function baseRegistrySource(
  local: BlobSource,
  root: Descriptor,
  client: RegistryClient,
): Promise<BlobSource> {
  const none: BlobSource = {
    has: () => Promise.resolve(false),
    open: () => Promise.reject(new Error("no base")),
  };
  if (!(await local.has(root))) return none;
  const { BASE_NAME_ANNOTATION } = await import("../registry/push.ts");
  const doc = parseManifest(
    await readBlob(local, root, `manifest ${root.digest}`),
    root.digest,
    root.mediaType,
  );
  const name = doc.kind === "manifest"
    ? doc.manifest.annotations?.[BASE_NAME_ANNOTATION]
    : doc.index.annotations?.[BASE_NAME_ANNOTATION];
  if (name === undefined) return none;
  let repo: { registry: string; repository: string };
  try {
    const ref = parseReference(name);
    repo = { registry: ref.registry, repository: ref.repository };
  } catch {
    return none;
  }
  return {
    has: () => Promise.resolve(true),
    open: (d) => client.fetchBlob(repo, d),
  };
}

/** Options for {@linkcode makeRegistryClient}. */
export interface MakeClientOptions {
  /** Output and environment. */
  io: CliIo;
  /** Parsed flags (`ca-file`, `insecure-registry`, `verbose`). */
  values: ParsedFlags;
  /** Registries flag/env credentials apply to. */
  pushRegistries: readonly string[];
  /** `--username`. */
  username?: string;
  /** Password from stdin. */
  password?: string;
  /** Told which source gave a registry's credential. */
  onCredential?: (registry: string, source: string) => void;
}

/**
 * Makes the registry client for push and login: credential chain, extra CA, insecure hosts,
 * and `--verbose` request/retry lines (URLs without query strings, never headers).
 *
 * @param options Flags, output, credentials.
 * @returns The client.
 * @throws {PycontainerError} exit code 2 for an unreadable CA file.
 *
 * @example
 * ```ts ignore
 * import { makeRegistryClient } from "./push_command.ts";
 * const client = await makeRegistryClient({ io, values: {}, pushRegistries: ["ghcr.io"] });
 * ```
 */
export async function makeRegistryClient(options: MakeClientOptions): Promise<RegistryClient> {
  const { io, values } = options;
  const caFile = stringFlag(values, "ca-file") ?? (io.env.PYCONTAINER_CA_FILE || undefined);
  const insecure = listFlag(values, "insecure-registry", true) ?? [];
  const verbose = values.verbose === true;
  const { credentialChain } = await import("../registry/credential_chain.ts");
  const credentials = credentialChain({
    env: io.env,
    pushRegistries: options.pushRegistries,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.onCredential ? { onFound: options.onCredential } : {}),
  });
  return new RegistryClient({
    env: io.env,
    insecure,
    credentials,
    ...(caFile === undefined ? {} : { fetch: caFetch(await readCaFile(resolve(caFile))) }),
    ...(verbose ? { onEvent: (e: RegistryEvent) => io.stderr(`  ${describeEvent(e)}`) } : {}),
  });
}

/**
 * Picks the image to push out of a layout: `--image TAG`, else the only image, else the one
 * whose ref name is the first reference's tag.
 *
 * @param dir The layout directory (for messages).
 * @param manifests The layout's `index.json` entries.
 * @param image `--image`, if given.
 * @param refs The target references.
 * @returns The descriptor to push.
 * @throws {PycontainerError} When the choice is ambiguous or the tag is not there.
 *
 * @example
 * ```ts
 * import { pickImage } from "./push_command.ts";
 * const d = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:" + "a".repeat(64), size: 1 };
 * console.assert(pickImage("dist/image", [d], undefined, ["r.io/a:1"]) === d);
 * ```
 */
export function pickImage(
  dir: string,
  manifests: readonly Descriptor[],
  image: string | undefined,
  refs: readonly string[],
): Descriptor {
  const tagOf = (d: Descriptor) => d.annotations?.[REF_NAME_ANNOTATION];
  const tags = manifests.map(tagOf).filter((t): t is string => t !== undefined);
  if (image !== undefined) {
    const found = manifests.find((d) => tagOf(d) === image);
    if (found) return found;
    throw new PycontainerError(`image "${image}" not found in OCI layout ${dir}`, {
      hint: tags.length ? `images in it: ${tags.join(", ")}` : "the layout has no tagged images",
      exitCode: 2,
    });
  }
  const digests = new Set(manifests.map((d) => d.digest));
  if (digests.size === 1) return manifests[0]!;
  if (manifests.length === 0) {
    throw new PycontainerError(`OCI layout ${dir} holds no image`, {
      hint: "build one first: pycontainer build",
    });
  }
  const wanted = /:([\w][\w.-]*)$/.exec(refs[0] ?? "")?.[1] ?? "latest";
  const found = manifests.find((d) => tagOf(d) === wanted);
  if (found) return found;
  throw new PycontainerError(
    `OCI layout ${dir} holds ${digests.size} images; say which with --image`,
    {
      hint: tags.length ? `images in it: ${tags.join(", ")}` : "the layout has no tagged images",
      exitCode: 2,
    },
  );
}

/**
 * The `--json` form of a push result.
 *
 * @param result The push result.
 * @returns A plain object for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { resultJson } from "./push_command.ts";
 * const j = resultJson({ digest: "sha256:0", mediaType: "m", repositories: [], blobs: { uploaded: 0, mounted: 0, existed: 0, uploadedBytes: 0 } });
 * console.assert(j.digest === "sha256:0");
 * ```
 */
export function resultJson(result: PushResult): Record<string, unknown> {
  return {
    digest: result.digest,
    mediaType: result.mediaType,
    pushed: result.repositories.map((r) => r.reference),
    tags: result.repositories.flatMap((r) => r.tags),
    blobs: result.blobs,
  };
}

function describeEvent(e: RegistryEvent): string {
  if (e.type === "request") return `${e.method} ${e.url} → ${e.status}`;
  if (e.type === "retry") {
    return `retry ${e.operation} on ${e.registry} (attempt ${e.attempt}, ${e.reason}, waiting ${e.delayMs} ms)`;
  }
  return `blob ${e.digest.slice(0, 19)} ${e.state}`;
}

function _positiveInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw usageError(`${flag} must be a positive whole number, got "${text}"`, `e.g. ${flag} 4`);
  }
  return n;
}
