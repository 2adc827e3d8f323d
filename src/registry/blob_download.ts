/**
 * Downloading a blob into the blob cache so that an interrupted transfer resumes instead of
 * starting over: the bytes go to a temporary file next to their final place, hashed as they
 * arrive; when the connection breaks, the next attempt asks for the rest with an HTTP `Range`
 * request and keeps hashing from where it stopped (a registry that ignores the range simply
 * sends everything again, and the partial file is restarted). Only a complete file whose digest
 * matches gets its content-addressed name. Big base layers on a flaky network get there.
 *
 * @module
 */
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { Descriptor } from "../oci/types.ts";
import { createSha256, type Sha256 } from "../runtime/sha256.ts";
import { tempPathFor } from "../store/atomic.ts";
import type { BlobStore } from "../store/blob_store.ts";
import { writeStreamToFile } from "../store/_file_stream.ts";
import { DigestMismatchError } from "../store/verify_stream.ts";
import type { RegistryClient, RepositoryRef } from "./client.ts";
import { networkErrorKind } from "./network_error.ts";
import { errorFromNetwork } from "./registry_error.ts";
import { retry } from "./retry.ts";

/** Options for {@linkcode downloadBlob}. */
export interface DownloadBlobOptions {
  /** Attempts in all, resumed ones included (default 5). */
  attempts?: number;
  /** First backoff delay, ms (default 250). */
  baseDelayMs?: number;
}

/** The body ended before the descriptor's size: worth resuming. */
class _ShortBody extends Error {
  override name = "ShortBody";
}

/**
 * Downloads a blob into the store, resuming after interruptions, and verifies it.
 *
 * @param client The registry client.
 * @param repo Where the blob lives.
 * @param descriptor The blob.
 * @param store The blob cache.
 * @param options Attempts and backoff.
 * @returns The path of the stored, verified blob.
 * @throws {DigestMismatchError} When the registry keeps sending wrong bytes.
 * @throws {RegistryError} When the registry can't be reached or refuses.
 *
 * @example
 * ```ts
 * import { downloadBlob } from "./blob_download.ts";
 * // const path = await downloadBlob(client, { registry: "ghcr.io", repository: "acme/api" }, layer, store);
 * console.assert(typeof downloadBlob === "function");
 * ```
 */
export async function downloadBlob(
  client: RegistryClient,
  repo: RepositoryRef,
  descriptor: Descriptor,
  store: BlobStore,
  options: DownloadBlobOptions = {},
): Promise<string> {
  const target = store.path(descriptor.digest);
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  const source = `registry ${client.endpoint(repo.registry).host}`;
  let hash: Sha256 = createSha256();
  let have = 0;
  try {
    await retry(async () => {
      const { stream, offset } = await client.openBlob(repo, descriptor, have);
      if (offset !== have) {
        hash = createSha256();
        have = 0;
      }
      await writeStreamToFile(stream, temp, (chunk) => {
        if (have + chunk.byteLength > descriptor.size) {
          throw _mismatch(descriptor, source, `more than the expected ${descriptor.size} bytes`);
        }
        hash.update(chunk);
        have += chunk.byteLength;
      }, have === 0 ? "w" : "a").catch(async (e) => {
        if (e instanceof DigestMismatchError) await _restart();
        throw e;
      });
      if (have < descriptor.size) throw new _ShortBody(`got ${have} of ${descriptor.size} bytes`);
      const digest = `sha256:${hash.digestHex()}`;
      if (digest !== descriptor.digest) {
        await _restart();
        throw _mismatch(descriptor, source, `content has digest ${digest}`);
      }
      await rename(temp, target);
    }, {
      attempts: options.attempts ?? 5,
      baseDelayMs: options.baseDelayMs ?? 250,
      retryable: (o) => {
        if (o.ok) return false;
        if (o.error instanceof DigestMismatchError || o.error instanceof _ShortBody) return true;
        const kind = networkErrorKind(o.error);
        return kind === "reset" || kind === "timeout" || kind === "other";
      },
    });
  } catch (e) {
    if (networkErrorKind(e) !== undefined || e instanceof _ShortBody) {
      throw errorFromNetwork(
        e,
        repo.registry,
        `get blob ${descriptor.digest.slice(0, 19)} of ${repo.repository}`,
      );
    }
    throw e;
  } finally {
    await rm(temp, { force: true }).catch(() => {});
  }
  return target;

  async function _restart(): Promise<void> {
    await rm(temp, { force: true });
    hash = createSha256();
    have = 0;
  }
}

function _mismatch(d: Descriptor, source: string, why: string): DigestMismatchError {
  return new DigestMismatchError(
    `blob ${d.digest} from ${source} is corrupt: ${why}`,
    d.digest,
    "retry the build; if it persists, the registry or a proxy is serving bad data",
  );
}
