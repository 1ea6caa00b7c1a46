#!/usr/bin/env bash
# Everything the test suite needs besides Rust, installed or started when missing; idempotent.
# Source it (`. scripts/setup.sh`) to get the variables it exports:
#   - Debian packages: poppler-utils and fonts-dejavu-core (PDF export tests), cmake, clang and
#     libclang-dev (llama.cpp for the `local-llm` feature), chromium and chromium-driver (the web
#     pages' browser tests);
#   - PostgreSQL, installed, with a cluster and a password role for the tests when missing
#     (scripts/setup-postgres.sh) → DEBRIEF_TEST_DATABASE_URL;
#   - the test model and llama.cpp's OpenAI-compatible server (scripts/fetch-llm.sh) →
#     DEBRIEF_TEST_GGUF and DEBRIEF_TEST_LLAMA_SERVER.
set -euo pipefail
SETUP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(poppler-utils fonts-dejavu-core cmake clang libclang-dev chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

. "$SETUP_DIR/setup-postgres.sh"

while IFS='=' read -r name value; do
  export "$name=$value"
done < <(bash "$SETUP_DIR/fetch-llm.sh")
