#!/usr/bin/env bash
# Build the browser verifier: the verifier crate compiled to WebAssembly, and wasm-bindgen's JavaScript
# glue, into verifier-web/www/pkg/ (gitignored). Then serve verifier-web/www over HTTP, e.g.
#   python3 -m http.server -d verifier-web/www 8000
# Needs `rustup target add wasm32-unknown-unknown` and the wasm-bindgen CLI of the same version as the
# wasm-bindgen crate in Cargo.lock (`cargo install wasm-bindgen-cli --version X`; .ci/run does both).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

want="$(bash verifier-web/wasm-bindgen-version.sh)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen CLI ${have:-missing}, need $want: cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

cargo build --profile wasm --target wasm32-unknown-unknown -p zkinfer-verifier-web
target="${CARGO_TARGET_DIR:-$root/target}"
rm -rf verifier-web/www/pkg
wasm-bindgen --target web --no-typescript --out-dir verifier-web/www/pkg \
  "$target/wasm32-unknown-unknown/wasm/verifier_web.wasm"
ls -l verifier-web/www/pkg
