/**
 * Poetry's version constraint syntax (`^3.11`, `~1.2`, `>=1,<2 || >3`, `1.2.*`), converted to
 * PEP 440 specifiers and PEP 508 markers, for the places a poetry lock or pyproject.toml states
 * versions Poetry's way: `[metadata] python-versions`, a dependency's `version` and `python`.
 *
 * @module
 */

/**
 * Converts a Poetry version constraint (`^3.11`, `~3.11`, `>=3.9,<4`, `3.11.*`, `*`) to a PEP 440
 * specifier set; `||` alternatives cannot be one set.
 *
 * @param constraint The Poetry constraint.
 * @returns The PEP 440 text (`""` for `*`), or `undefined` when it has alternatives or is unknown.
 *
 * @example
 * ```ts
 * import { poetryConstraintToPep440 } from "./poetry_constraint.ts";
 * console.assert(poetryConstraintToPep440("^3.11") === ">=3.11,<4.0");
 * console.assert(poetryConstraintToPep440("~3.11") === ">=3.11,<3.12");
 * console.assert(poetryConstraintToPep440(">=3.9, <4") === ">=3.9,<4");
 * ```
 */
export function poetryConstraintToPep440(constraint: string): string | undefined {
  const c = constraint.trim();
  if (c === "*" || c === "") return "";
  if (c.includes("||")) return undefined;
  const parts = c.split(/\s*,\s*|\s+(?=[<>=!~^])/).filter((p) => p !== "");
  const out: string[] = [];
  for (const p of parts) {
    const m = /^(\^|~(?!=)|~=|==|!=|>=|<=|>|<|=)?\s*(\d+(?:\.\d+)*)(\.\*)?([a-z0-9.+-]*)$/i.exec(p);
    if (m === null) return undefined;
    const [, op = "", ver = "", star = "", rest = ""] = m;
    const nums = ver.split(".").map(Number);
    if (op === "^" || op === "~") {
      let upper: number[];
      if (op === "^") {
        const i = nums.findIndex((n) => n !== 0);
        const at = i < 0 ? Math.max(nums.length - 1, 0) : i;
        upper = [...nums.slice(0, at), (nums[at] ?? 0) + 1];
      } else {
        const at = nums.length === 1 ? 0 : 1;
        upper = [...nums.slice(0, at), (nums[at] ?? 0) + 1];
      }
      if (upper.length === 1) upper.push(0);
      out.push(`>=${ver}${rest}`, `<${upper.join(".")}`);
    } else {
      out.push(`${op === "" || op === "=" ? "==" : op}${ver}${star}${rest}`);
    }
  }
  return out.join(",");
}

/**
 * Turns a Poetry Python constraint (`^3.8`, `>=3.7,<3.11 || >=3.12`) into a marker.
 *
 * @param constraint The constraint from a `python = "..."` key.
 * @returns A marker on `python_full_version`, or `undefined` for "any".
 *
 * @example
 * ```ts
 * import { poetryPythonMarker } from "./poetry_constraint.ts";
 * console.assert(poetryPythonMarker("^3.8") === 'python_full_version >= "3.8" and python_full_version < "4.0"');
 * ```
 */
export function poetryPythonMarker(constraint: string): string | undefined {
  const alternatives: string[] = [];
  for (const alt of constraint.split("||")) {
    const pep440 = poetryConstraintToPep440(alt);
    if (pep440 === undefined) return undefined;
    if (pep440 === "") return undefined;
    const specs = pep440.split(",").map((s) => {
      const m = /^(~=|===|==|!=|>=|<=|>|<)(.*)$/.exec(s) as RegExpExecArray;
      return `python_full_version ${m[1]} "${m[2]}"`;
    });
    alternatives.push(specs.join(" and "));
  }
  if (alternatives.length === 1) return alternatives[0];
  return alternatives.map((a) => `(${a})`).join(" or ");
}
