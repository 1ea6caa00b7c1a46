#!/usr/bin/env bash
# Everything the test suite needs besides Rust, installed or started when missing; idempotent.
# Source it (`. scripts/setup.sh`) to get the variables it exports:
#   - Debian packages: poppler-utils and fonts-dejavu-core (PDF export tests), cmake, clang and
#     libclang-dev (llama.cpp for the `local-llm` feature), chromium and chromium-driver (the web
#     pages' browser tests) → DEBRIEF_REQUIRE_BROWSER=1, so those tests fail instead of skipping;
#   - PostgreSQL on 127.0.0.1:5432 with a `test` database → DEBRIEF_TEST_DATABASE_URL;
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

export DEBRIEF_REQUIRE_BROWSER=1

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
fi
if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname = 'test'" | grep -q 1; then
  createdb -h 127.0.0.1 -U postgres test
fi
export DEBRIEF_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test

while IFS='=' read -r name value; do
  export "$name=$value"
done < <(bash "$SETUP_DIR/fetch-llm.sh")
