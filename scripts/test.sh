#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs and starts what the tests need
# (scripts/setup.sh), then runs every test of every crate with every feature, including the
# in-process LLM engine, against PostgreSQL, a real model, a real llama.cpp server and Chromium.
# The tests that need one of those are marked ignored with the reason (so a plain `cargo test`
# lists them as not run); here they are asked for, so a missing part fails them. It ends with
# how many tests ran and which, if any, were not run and why.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --all-features --no-fail-fast -- --include-ignored 2>&1 | tee "$log" \
  || status=$?
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
     END { printf "\nsummary: %d passed, %d failed, %d not run\n", passed, failed, ignored }' "$log"
grep -E '^test .* \.\.\. (FAILED|ignored)' "$log" || true
if grep -qE '^test .* \.\.\. ignored' "$log"; then
  echo "tests not run: every test must run here (a missing part is a failure)"
  status=1
fi
exit "$status"
