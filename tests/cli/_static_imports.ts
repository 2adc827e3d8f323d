/**
 * Test helper: the modules a TypeScript file loads before any of its code runs — its static
 * `import`/`export … from` statements, followed recursively through relative specifiers.
 * Dynamic `import()` and type-only imports (`import type`, `export type`) are not followed: they
 * cost nothing at start-up. The start-up tests use it to pin which modules the CLI loads eagerly.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";

/**
 * A static import or re-export: `import x from`, `import { a, type B } from`, `import * as n from`,
 * `import x, { a } from`, `import "side-effect"`, `export { a } from`, `export * from`. Not
 * `import type …`/`export type …` (erased), not `import(` (dynamic).
 */
const STATIC_IMPORT =
  /^\s*(?:import|export)\s+(?!type\s)(?:(?:\*(?:\s+as\s+\w+)?|\{[^}]*\}|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)\s+from\s+)?["']([^"']+)["']/gm;

/**
 * The relative specifiers a source file imports statically.
 *
 * @param source TypeScript source text.
 * @returns The specifiers, in order (bare and `node:` ones included).
 *
 * @example
 * ```ts
 * import { staticSpecifiers } from "./_static_imports.ts";
 * const s = staticSpecifiers('import { a } from "./a.ts";\nconst b = await import("./b.ts");');
 * console.assert(s.length === 1 && s[0] === "./a.ts");
 * ```
 */
export function staticSpecifiers(source: string): string[] {
  return [...source.matchAll(STATIC_IMPORT)].map((m) => m[1]!);
}

/**
 * Every repository file a module loads statically, itself included.
 *
 * @param root The repository root (paths in the result are relative to it, `/`-separated).
 * @param entry The entry file, relative to `root`.
 * @returns The set of files, e.g. `{"cli.ts", "src/errors.ts", …}`.
 *
 * @example
 * ```ts ignore
 * const files = await staticGraph(ROOT, "cli.ts");
 * console.assert(!files.has("src/build/build.ts"));
 * ```
 */
export async function staticGraph(root: string, entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    const rel = relative(root, file).split("\\").join("/");
    if (seen.has(rel)) return;
    seen.add(rel);
    const text = await readFile(file, "utf8");
    for (const spec of staticSpecifiers(text)) {
      if (spec.startsWith("./") || spec.startsWith("../")) {
        await visit(resolve(dirname(file), spec));
      }
    }
  };
  await visit(resolve(root, entry));
  return seen;
}
