/**
 * Loads the conformance fixtures generated from pypa's `packaging` by
 * tests/fixtures/packaging/generate.py (see that file to regenerate them).
 *
 * @module
 */

import { readFileSync } from "node:fs";

/**
 * Reads one fixture file.
 *
 * @param name File name under tests/fixtures/packaging/, e.g. `versions.json`.
 * @returns The parsed JSON.
 *
 * @example
 * ```ts
 * const data = packagingFixture<{ packaging: string }>("versions.json");
 * ```
 */
export function packagingFixture<T>(name: string): T {
  const url = new URL(`../fixtures/packaging/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as T;
}
