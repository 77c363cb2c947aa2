#!/usr/bin/env bash
# The wasm-bindgen crate's version in Cargo.lock: the wasm-bindgen CLI must be exactly this one.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock
