#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs and starts what the tests need
# (scripts/setup.sh), then runs every test of every crate with every feature, including the
# in-process LLM engine, against PostgreSQL, a real model and a real llama.cpp server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
cargo test --workspace --all-features
