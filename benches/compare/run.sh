#!/usr/bin/env bash
# Side by side with EZKL: makes benches/compare/.venv (pinned requirements.txt), builds zkinfer in
# release, then runs compare.py, which writes results/NAME.md and results/NAME.json.
# Usage: benches/compare/run.sh [--models mlp,cnn,lenet,sigmoid] [--runs 3] [--threads N] [...]
#        (benches/compare/run.sh --help lists every option)
#        benches/compare/run.sh --models ad,kws,vww,resnet8 [--ezkl-timeout 1800 --ezkl-mem-gib 20 --ezkl-max-k 23]
#        (the MLPerf Tiny-sized models; EZKL runs under those limits and is reported as 'did not fit' past them)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

# The virtual environment, (re)installed when requirements.txt changed.
if ! cmp -s "$here/requirements.txt" "$venv/.installed-requirements.txt" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.installed-requirements.txt"
fi

(cd "$root" && cargo build --release -p zkinfer --bin zkinfer)
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

exec "$venv/bin/python" "$here/compare.py" --zkinfer "$target/release/zkinfer" "$@"
