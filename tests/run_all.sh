#!/usr/bin/env bash
# Runs the whole test suite the way CI does (`npm test` runs this):
#   1. deno: `deno test -A --parallel` over everything (unit, integration, packaging);
#   2. bun:  `bun test` over the unit tests (tests/ minus integration/, npm/, fixtures/);
#   3. node: builds the npm package (npm-build.ts, which compiles the tests too) and runs the
#            compiled unit tests with `node --test` on Node 20 (the integration tests drive the CLI
#            from the repository's sources, which Deno already covers).
# Each runner's output is printed as it runs; its pass/fail/skip counts are parsed from its own
# summary, and the last line is exactly "N passed, N failed, N skipped" (the sums). Exits non-zero
# if any test failed or any runner crashed (a crash counts as one failure). Each runner is stopped
# after $PYCONTAINER_RUNNER_TIMEOUT seconds (default 1500) so a hung test can't eat CI's 90 minutes.
#
# usage: tests/run_all.sh [deno] [bun] [node]     (default: all three, in that order)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"
export NO_COLOR=1
logdir="$(mktemp -d "${TMPDIR:-/tmp}/pycontainer-tests.XXXXXX")"
trap 'rm -rf "$logdir"' EXIT

limit="${PYCONTAINER_RUNNER_TIMEOUT:-1500}"
runners=("$@")
[ ${#runners[@]} -eq 0 ] && runners=(deno bun node)

total_pass=0 total_fail=0 total_skip=0 crashed=0
summaries=()

# last_number REGEX FILE: the first number in the last line of FILE matching REGEX (0 if none).
last_number() {
  local line
  line="$(grep -E "$1" "$2" | tail -n 1)"
  [[ "$line" =~ ([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0
}

# record NAME EXIT PASS FAIL SKIP FOUND_SUMMARY
record() {
  local name=$1 code=$2 pass=$3 fail=$4 skip=$5 found=$6
  if [ "$code" -eq 124 ] || [ "$code" -eq 137 ]; then
    echo "run_all: $name was stopped after ${limit} s (a test hangs or leaves a handle open)" >&2
  fi
  if [ "$found" = no ] || { [ "$code" -ne 0 ] && [ "$fail" -eq 0 ]; }; then
    echo "run_all: $name crashed (exit $code) without reporting failed tests; counted as 1 failure" >&2
    fail=$((fail + 1))
    crashed=1
  fi
  total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
  summaries+=("$name: pass $pass, fail $fail, skip $skip")
}

run_deno() {
  local log="$logdir/deno.log" code=0 line pass=0 fail=0 skip=0 found=no
  echo "=== deno test -A --parallel"
  timeout -k 30 "$limit" deno test -A --parallel 2>&1 | tee "$log" || code=$?
  # "ok | 12 passed | 0 failed | 1 ignored (3s)" or "FAILED | 11 passed (2 steps) | 1 failed ..."
  line="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)"
  if [ -n "$line" ]; then
    found=yes
    [[ "$line" =~ \|\ ([0-9]+)\ passed ]] && pass=${BASH_REMATCH[1]}
    [[ "$line" =~ \|\ ([0-9]+)\ failed ]] && fail=${BASH_REMATCH[1]}
    [[ "$line" =~ \|\ ([0-9]+)\ ignored ]] && skip=${BASH_REMATCH[1]}
  fi
  record deno "$code" "$pass" "$fail" "$skip" "$found"
}

run_bun() {
  local log="$logdir/bun.log" code=0 pass fail skip found=no dirs=() d
  for d in tests/*/; do
    case "$d" in tests/integration/ | tests/npm/ | tests/fixtures/) continue ;; esac
    dirs+=("./${d%/}")
  done
  for d in tests/*_test.ts; do [ -f "$d" ] && dirs+=("./$d"); done
  echo "=== bun test ${dirs[*]}"
  if [ ${#dirs[@]} -eq 0 ]; then
    record bun 1 0 0 0 no
    return
  fi
  timeout -k 30 "$limit" bun test --timeout 120000 "${dirs[@]}" 2>&1 | tee "$log" || code=$?
  # " 12 pass" / " 1 skip" / " 0 fail" / "Ran 13 tests across 4 files."
  grep -qE '^Ran [0-9]+ tests? across' "$log" && found=yes
  pass="$(last_number '^ *[0-9]+ pass$' "$log")"
  fail="$(last_number '^ *[0-9]+ fail$' "$log")"
  skip="$(last_number '^ *[0-9]+ (skip|todo)$' "$log")"
  record bun "$code" "$pass" "$fail" "$skip" "$found"
}

run_node() {
  local log="$logdir/node.log" code=0 pass fail skip cancelled found=no files=()
  echo "=== deno run -A npm-build.ts && node --test (compiled unit tests, $(node --version))"
  if ! deno run -A npm-build.ts 2>&1 | tee "$log"; then
    record node 1 0 0 0 no
    return
  fi
  mapfile -t files < <(find npm/esm/tests -name '*_test.js' -not -path '*/integration/*' | sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "run_all: no compiled tests under npm/esm/tests" >&2
    record node 1 0 0 0 no
    return
  fi
  # --test-force-exit: a file whose tests are done but which leaves a socket or timer open would
  # otherwise keep Node's runner waiting forever.
  timeout -k 30 "$limit" node --test --test-force-exit --test-timeout=600000 --test-reporter=tap \
    "${files[@]}" 2>&1 | tee -a "$log" || code=$?
  # TAP summary: "# pass 80" "# fail 0" "# cancelled 0" "# skipped 1" "# todo 0"
  grep -qE '^# tests [0-9]+' "$log" && found=yes
  pass="$(last_number '^# pass [0-9]+' "$log")"
  fail="$(last_number '^# fail [0-9]+' "$log")"
  cancelled="$(last_number '^# cancelled [0-9]+' "$log")"
  skip="$(last_number '^# skipped [0-9]+' "$log")"
  skip=$((skip + $(last_number '^# todo [0-9]+' "$log")))
  record node "$code" "$pass" "$((fail + cancelled))" "$skip" "$found"
}

for r in "${runners[@]}"; do
  case "$r" in
    deno) run_deno ;;
    bun) run_bun ;;
    node) run_node ;;
    *) echo "run_all: unknown runner '$r' (use deno, bun, node)" >&2; exit 2 ;;
  esac
done

echo "=== summary"
for s in "${summaries[@]}"; do echo "  $s"; done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ] && [ "$crashed" -eq 0 ]
