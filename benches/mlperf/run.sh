#!/usr/bin/env bash
# MLPerf Tiny shapes, float and int8 TFLite: compile, prove, verify with the zkinfer CLI as a user
# runs it, and write one markdown table (benches/mlperf/results/mlperf.md).
#
#   benches/mlperf/run.sh            # the reduced fixtures (fixtures/tflite), and the full-size
#                                    # models when target/mlperf/he holds them
#   MODELS="kws_full vww_full" benches/mlperf/run.sh   # only these
#
# The full-size models are made by benches/mlperf/make_full_tflite.py (TensorFlow, untrained, INIT=he);
# they are not committed. Every int8 proof's output is compared with LiteRT's reference-kernel logits
# (bit for bit). Release build, 2 prover threads, development SRS. Times are one run each; the verify
# figure is the median of three whole processes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-$ROOT/target/mlperf/run}
RESULTS=$ROOT/benches/mlperf/results
mkdir -p "$OUT" "$RESULTS"
export ZKINFER_SRS=dev ZKINFER_ALLOW_DEV_SRS=1
cargo build --release -q -p zkinfer
Z=$ROOT/target/release/zkinfer
FULL=$ROOT/target/mlperf/he

# name  tflite  cases-json  logits-json(int8 only, may equal cases-json)
models() {
  for n in ad_ae128 kws_dscnn16 vww_mbnet32 ic_resnet8_w8 ic_resnet8; do
    echo "$n fixtures/tflite/${n}_f32.tflite fixtures/tflite/$n/float.json -"
    echo "${n}_int8 fixtures/tflite/${n}_int8.tflite fixtures/tflite/$n/int8.json fixtures/tflite/$n/int8_logits.json"
  done
  # ic_full (untrained ResNet-8) has the fixture ic_resnet8's shape: left out.
  for n in ad_full kws_full vww_full; do
    [ -f "$FULL/$n.tflite" ] || continue
    echo "$n $FULL/$n.tflite $FULL/${n}_in.json -"
    echo "${n}_int8 $FULL/${n}_int8.tflite $FULL/${n}_int8.json $FULL/${n}_int8.json"
  done
}

# Inputs: the first case (float `input_data`, or `input_int8`), and float calibration samples.
prepare() { # name cases dir
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
name, cases, d = sys.argv[1:]
doc = json.load(open(cases))
if 'cases' in doc:
    c = doc['cases'][0]
    if 'input_int8' in c:
        json.dump({'input_int8': [c['input_int8']]}, open(f'{d}/in.json', 'w'))
    else:
        json.dump({'input_data': [c['input']]}, open(f'{d}/in.json', 'w'))
        json.dump({'samples': [c['input'] for c in doc['cases']]}, open(f'{d}/cal.json', 'w'))
else:  # make_full_tflite.py's float input file
    json.dump(doc, open(f'{d}/in.json', 'w'))
PY
}

row() { # name tflite cases logits
  local name=$1 model=$2 cases=$3 logits=$4 d=$OUT/$1
  rm -rf "$d"; mkdir -p "$d"
  prepare "$name" "$cases" "$d"
  local cal=()
  if [ -f "$d/cal.json" ]; then cal=(--calibration "$d/cal.json"); fi
  case $name in *_full) cal=(--calibration "$FULL/${name}_cal.json");; esac
  /usr/bin/time -f "%e %M" -o "$d/compile.time" "$Z" compile "$model" "${cal[@]}" -o "$d/m.zkm" --json > "$d/compile.json" 2>> "$d/stderr.log"
  /usr/bin/time -f "%e %M" -o "$d/prove.time" "$Z" prove -m "$d/m.zkm" -i "$d/in.json" -o "$d/p.zkp" --threads 2 --json > "$d/prove.json" 2>> "$d/stderr.log"
  for i in 1 2 3; do  # whole processes, in milliseconds
    local t0; t0=$(date +%s%N)
    "$Z" verify "$d/p.zkp" -m "$d/m.zkm" --json > "$d/verify.json" 2>> "$d/stderr.log"
    echo $(( ($(date +%s%N) - t0) / 1000000 )) >> "$d/verify.ms"
  done
  "$Z" run -m "$d/m.zkm" -i "$d/in.json" --json > "$d/run.json" 2>> "$d/stderr.log"
  "$Z" plan "$d/m.zkm" --json > "$d/plan.json"
  python3 - "$name" "$d" "$logits" >> "$RESULTS/mlperf.md" <<'PY'
import json, statistics, sys
name, d, logits = sys.argv[1:]
plan = json.load(open(f'{d}/plan.json'))
prove = json.load(open(f'{d}/prove.json'))
verify = json.load(open(f'{d}/verify.json'))
ct, cm = open(f'{d}/compile.time').read().split()
pt, pm = open(f'{d}/prove.time').read().split()
vt = statistics.median(float(x) for x in open(f'{d}/verify.ms').read().split()) / 1000
exact = '–'
if logits != '-':
    ref = json.load(open(logits))['cases'][0]['logits_int8_ref']
    got = json.load(open(f'{d}/run.json'))['quantized'][0]
    exact = 'yes' if got == ref else 'NO'
s = plan['shape']
gib = lambda kb: f'{int(kb) / 1048576:.2f} GiB'
print(f"| {name} | {plan['macs'] / 1e6:.2f}M | {plan['k']} | {s['inputs_per_row']}x{s['width']} | "
      f"{plan['lookups']} | {plan['advice_cells_per_mac']:.2f} | {float(ct):.1f} s, {gib(cm)} | "
      f"**{prove['prove_s']:.1f} s** | {float(pt):.1f} s, {gib(pm)} | {plan['estimate']['prove_s']:.1f} s, "
      f"{plan['estimate']['peak_mib'] / 1024:.2f} GiB | {vt * 1000:.0f} ms | {prove['proof_bytes']:,} B | "
      f"{'VALID' if verify['valid'] else 'INVALID'} | {exact} |")
PY
}

{
  echo "# MLPerf Tiny shapes: zkinfer CLI, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, 2 prover threads, development SRS"
  echo
  echo "| model | MACs | k | P x W | lookups | cells / MAC | compile, peak | prove | prove process, peak | plan estimate | verify process | proof | verdict | int8 bit-exact |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$RESULTS/mlperf.md"
models | while read -r name model cases logits; do
  if [ -n "${MODELS:-}" ] && ! [[ " $MODELS " == *" ${name%_int8} "* ]]; then continue; fi
  echo "== $name" >&2
  row "$name" "$model" "$cases" "$logits" || echo "| $name | failed: see $OUT/$name |" >> "$RESULTS/mlperf.md"
done
cat "$RESULTS/mlperf.md"
