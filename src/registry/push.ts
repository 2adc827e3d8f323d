/**
 * Pushing an image (a manifest, or an index and its manifests) to one or more tags. Tags are
 * grouped by repository; for each repository the blobs go first (bounded parallelism, each one
 * HEAD → mount → upload, see `upload.ts`), then the manifests by digest (an index's children
 * before the index), then each tag. The result names the pushed image as
 * `REGISTRY/REPOSITORY@sha256:…` per repository.
 *
 * Mount sources, in order: a repository on the same registry this push already filled (tags in
 * two repositories of one registry upload each blob once), then the base image's repository
 * when the manifest's `org.opencontainers.image.base.name` annotation puts it on the same
 * registry. A registry that declines a mount (no pull access, unknown blob, no mount support)
 * gets the blob uploaded instead.
 *
 * Blobs come from a {@linkcode BlobSource} — normally the OCI layout the build wrote, which holds
 * every blob — and, when given, a fallback source for blobs missing locally (the base image's
 * registry, streamed).
 *
 * @module
 */
import { PycontainerError } from "../errors.ts";
import { parseManifest } from "../oci/manifest.ts";
import { formatReference, type ImageReference, parseReference } from "../oci/reference.ts";
import type { Descriptor } from "../oci/types.ts";
import { type BlobSource, readBlob } from "../store/blob_source.ts";
import type { RegistryClient } from "./client.ts";
import type { PushEvent } from "./progress.ts";
import { RegistryError } from "./registry_error.ts";
import { uploadBlob } from "./upload.ts";

/** The annotation naming the base image a manifest was built on. */
export const BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name";

/** Options for {@linkcode pushImage}. */
export interface PushOptions {
  /** The registry client (credentials, endpoints, retries). */
  client: RegistryClient;
  /** Blobs uploaded at once (default 4). */
  jobs?: number;
  /** Upload blobs over 8 MiB in PATCH chunks of this size (default: one streamed PATCH each). */
  chunkSize?: number;
  /** Blobs up to this size go up in one `PUT` (default 8 MiB). */
  monolithicMax?: number;
  /** Attempts per blob upload, each with a fresh upload session (default 5). */
  attempts?: number;
  /** First backoff delay between blob upload attempts, ms (default 250). */
  baseDelayMs?: number;
  /** Progress events. */
  onEvent?: (event: PushEvent) => void;
}

/** What was pushed to one repository. */
export interface PushedRepository {
  /** `REGISTRY/REPOSITORY@sha256:…`. */
  reference: string;
  /** The full tag references pushed there. */
  tags: string[];
}

/** The result of {@linkcode pushImage}. */
export interface PushResult {
  /** Digest of the pushed manifest or index. */
  digest: string;
  /** Its media type. */
  mediaType: string;
  /** One entry per repository, in the order of the tags. */
  repositories: PushedRepository[];
  /** Blob counts over all repositories. */
  blobs: { uploaded: number; mounted: number; existed: number; uploadedBytes: number };
}

interface _Document {
  descriptor: Descriptor;
  bytes: Uint8Array;
  blobs: Descriptor[];
  children: _Document[];
  baseName?: string;
}

/**
 * Pushes an image to every tag.
 *
 * @param blobs Where the image's blobs (manifests, configs, layers) come from.
 * @param root The manifest or index descriptor to push.
 * @param tags Target references (`ghcr.io/acme/api:1.4.2`); they may name several repositories.
 * @param options Client, parallelism, progress.
 * @returns The digest and `REG/REPO@digest` per repository.
 * @throws {RegistryError} When a registry refuses; the message names registry, operation, status and code.
 *
 * @example
 * ```ts ignore
 * import { pushImage } from "./push.ts";
 * import { readOciLayout } from "../store/layout_reader.ts";
 * const layout = await readOciLayout("dist/image");
 * const r = await pushImage(layout.blobs, layout.resolve(), ["localhost:5000/acme/api:1"], { client });
 * console.log(r.repositories[0]!.reference);
 * ```
 */
export async function pushImage(
  blobs: BlobSource,
  root: Descriptor,
  tags: readonly string[],
  options: PushOptions,
): Promise<PushResult> {
  if (tags.length === 0) {
    throw new PycontainerError("nothing to push to: no tag given", {
      hint: "name the target, e.g. ghcr.io/acme/api:1.0",
      exitCode: 2,
    });
  }
  const doc = await _readDocument(blobs, root);
  const groups = groupByRepository(tags);
  const counts = { uploaded: 0, mounted: 0, existed: 0, uploadedBytes: 0 };
  const filled = new Map<string, string[]>(); // registry → repositories pushed in this run
  const repositories: PushedRepository[] = [];
  for (const group of groups) {
    const target = { registry: group.registry, repository: group.repository };
    const mountFrom = [...(filled.get(group.registry) ?? []), ..._baseRepos(doc, group.registry)];
    const all = _uniqueBlobs(doc);
    await _explainDenied(
      target,
      () => _pushRepository(options, target, group.tags, doc, all, blobs, mountFrom, counts),
    );
    filled.set(group.registry, [...(filled.get(group.registry) ?? []), group.repository]);
    const reference = `${group.registry}/${group.repository}@${root.digest}`;
    const tagRefs = group.tags.map((t) => `${group.registry}/${group.repository}:${t}`);
    options.onEvent?.({ type: "pushed", reference, tags: tagRefs });
    repositories.push({ reference, tags: tagRefs });
  }
  return { digest: root.digest, mediaType: root.mediaType, repositories, blobs: counts };
}

/** Blobs, then manifests by digest, then tags, for one repository. */
async function _pushRepository(
  options: PushOptions,
  target: { registry: string; repository: string },
  tags: readonly string[],
  doc: _Document,
  all: Descriptor[],
  blobs: BlobSource,
  mountFrom: string[],
  counts: PushResult["blobs"],
): Promise<void> {
  await _pool(all, Math.max(1, options.jobs ?? 4), async (d) => {
    const emit = (state: Extract<PushEvent, { type: "blob" }>["state"], extra = {}) =>
      options.onEvent?.({
        type: "blob",
        ...target,
        digest: d.digest,
        size: d.size,
        state,
        ...extra,
      });
    const r = await uploadBlob(options.client, target, d, blobs, {
      mountFrom,
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.baseDelayMs === undefined ? {} : { baseDelayMs: options.baseDelayMs }),
      onUploadStart: () => emit("uploading", { sent: 0 }),
      onProgress: ({ sent, restarted }) =>
        restarted ? emit("retry", { reason: restarted }) : emit("uploading", { sent }),
    });
    if (r.outcome === "exists") {
      counts.existed++;
      emit("exists");
    } else if (r.outcome === "mounted") {
      counts.mounted++;
      emit("mounted", r.from === undefined ? {} : { from: r.from });
    } else {
      counts.uploaded++;
      counts.uploadedBytes += d.size;
      emit("uploaded");
    }
  });
  for (const child of doc.children) {
    await _putManifest(options, target, child, child.descriptor.digest);
  }
  await _putManifest(options, target, doc, doc.descriptor.digest);
  for (const tag of tags) await _putManifest(options, target, doc, tag);
}

/** Turns "unauthorized"/"denied" during a push into a message about push permission. */
async function _explainDenied(
  target: { registry: string; repository: string },
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (
      e instanceof RegistryError && (e.status === 401 || e.status === 403) &&
      !/requires a login|auth token/.test(e.message) && !/were refused/.test(e.hint ?? "")
    ) {
      throw new RegistryError(e.message, {
        registry: e.registry,
        operation: e.operation,
        status: e.status,
        codes: e.codes,
        hint:
          `you may not push to ${target.registry}/${target.repository}: log in as a user who may (pycontainer login ${target.registry}), check the repository name, and that the token has push/write access`,
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Groups target references by registry and repository, keeping the order they were given.
 *
 * @param tags References like `ghcr.io/acme/api:1.4.2` (digests are not allowed: the digest is
 *   what the push produces).
 * @returns One group per repository with its tags.
 * @throws {PycontainerError} exit code 2 for an invalid reference or one with a digest.
 *
 * @example
 * ```ts
 * import { groupByRepository } from "./push.ts";
 * const g = groupByRepository(["r.io/a:1", "r.io/a:latest", "r.io/b:1"]);
 * console.assert(g.length === 2 && g[0]!.tags.join() === "1,latest");
 * ```
 */
export function groupByRepository(
  tags: readonly string[],
): { registry: string; repository: string; tags: string[] }[] {
  const groups = new Map<string, { registry: string; repository: string; tags: string[] }>();
  for (const text of tags) {
    const ref: ImageReference = parseReference(text);
    if (ref.digest !== undefined) {
      throw new PycontainerError(
        `cannot push to "${text}": a push target has a tag, not a digest`,
        {
          hint: `use ${
            formatReference({ registry: ref.registry, repository: ref.repository, tag: "TAG" })
          }`,
          exitCode: 2,
        },
      );
    }
    const key = `${ref.registry}/${ref.repository}`;
    const group = groups.get(key) ??
      { registry: ref.registry, repository: ref.repository, tags: [] };
    const tag = ref.tag ?? "latest";
    if (!group.tags.includes(tag)) group.tags.push(tag);
    groups.set(key, group);
  }
  return [...groups.values()];
}

async function _readDocument(blobs: BlobSource, descriptor: Descriptor): Promise<_Document> {
  const bytes = await readBlob(blobs, descriptor, `manifest ${descriptor.digest}`);
  const doc = parseManifest(bytes, descriptor.digest, descriptor.mediaType);
  if (doc.kind === "manifest") {
    const m = doc.manifest;
    const baseName = m.annotations?.[BASE_NAME_ANNOTATION];
    return {
      descriptor: { ...descriptor, mediaType: doc.mediaType },
      bytes,
      blobs: [m.config, ...m.layers],
      children: [],
      ...(baseName === undefined ? {} : { baseName }),
    };
  }
  const children: _Document[] = [];
  for (const child of doc.index.manifests) children.push(await _readDocument(blobs, child));
  return { descriptor: { ...descriptor, mediaType: doc.mediaType }, bytes, blobs: [], children };
}

function _uniqueBlobs(doc: _Document): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  const visit = (d: _Document) => {
    for (const b of d.blobs) if (!seen.has(b.digest)) seen.set(b.digest, b);
    d.children.forEach(visit);
  };
  visit(doc);
  // Biggest first: the long uploads start early and the small ones fill the gaps.
  return [...seen.values()].sort((a, b) => b.size - a.size);
}

function _baseRepos(doc: _Document, registry: string): string[] {
  const names = new Set<string>();
  const visit = (d: _Document) => {
    if (d.baseName) {
      try {
        const ref = parseReference(d.baseName);
        if (ref.registry === registry) names.add(ref.repository);
      } catch {
        // an annotation we can't parse (oci-layout:…, scratch) just means no mount source
      }
    }
    d.children.forEach(visit);
  };
  visit(doc);
  return [...names];
}

async function _putManifest(
  options: PushOptions,
  target: { registry: string; repository: string },
  doc: _Document,
  reference: string,
): Promise<void> {
  const bytes = doc.bytes;
  const shown = reference.startsWith("sha256:") ? `@${reference}` : `:${reference}`;
  const put = () =>
    options.client.request(target.registry, {
      method: "PUT",
      path: `/v2/${target.repository}/manifests/${reference}`,
      scopes: [{ repository: target.repository, actions: ["pull", "push"] }],
      headers: { "content-type": doc.descriptor.mediaType },
      body: () => bytes as Uint8Array<ArrayBuffer>,
      operation: `push manifest ${target.repository}${shown}`,
      purpose: "push",
    });
  // A registry may not see a just-uploaded blob yet (eventually consistent storage, or a late
  // duplicate of a retried blob request rewriting its link): "blob unknown" gets a few retries.
  let response: Response;
  for (let attempt = 1;; attempt++) {
    try {
      response = (await put()).response;
      break;
    } catch (e) {
      const transient = e instanceof RegistryError &&
        e.codes.some((c) => c === "MANIFEST_BLOB_UNKNOWN" || c === "BLOB_UNKNOWN");
      if (!transient || attempt >= 4) {
        if (transient) {
          throw new RegistryError((e as RegistryError).message, {
            registry: target.registry,
            operation: `push manifest ${target.repository}${shown}`,
            status: (e as RegistryError).status ?? 400,
            codes: (e as RegistryError).codes,
            hint:
              "a blob the manifest references is not in the registry; push again (blobs are checked and re-uploaded)",
            cause: e,
          });
        }
        throw e;
      }
      await new Promise((r) => setTimeout(r, (options.baseDelayMs ?? 250) * 2 ** attempt));
    }
  }
  await response.body?.cancel().catch(() => {});
  const claimed = response.headers.get("docker-content-digest");
  if (claimed?.startsWith("sha256:") && claimed !== doc.descriptor.digest) {
    throw new RegistryError(
      `registry ${target.registry}: manifest ${target.repository}${shown} was stored as ${claimed}, expected ${doc.descriptor.digest}`,
      {
        registry: target.registry,
        operation: "push manifest",
        hint: "the registry rewrote the manifest (it may not support this media type)",
      },
    );
  }
  options.onEvent?.({
    type: "manifest",
    ...target,
    reference,
    digest: doc.descriptor.digest,
  });
}

async function _pool<T>(
  items: readonly T[],
  jobs: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  if (failed) throw failed.error;
}
