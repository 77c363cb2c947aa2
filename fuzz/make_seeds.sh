#!/usr/bin/env bash
# Remake the fuzz seeds (fuzz/seeds/): compiled models and proofs of the fixtures, made by this
# zkinfer on the development SRS. Run from the repository root after a model or proof format change:
#   bash fuzz/make_seeds.sh
set -euo pipefail
cargo build -q -p zkinfer
Z="$PWD/target/debug/zkinfer"
export ZKINFER_SRS=dev
seeds=fuzz/seeds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
calib=fixtures/digits/calibration.json
for m in digits_mlp digits_cnn sigmoid_mlp; do
    "$Z" compile "fixtures/$m.onnx" --calibration "$calib" -o "$seeds/model_reader/$m.zkm" >/dev/null
done
for t in ConstantPad2d LeakyReLU MaxPool2d PReLU_2d; do
    case "$t" in ConstantPad2d) name=constant_pad2d ;; LeakyReLU) name=leaky_relu ;;
                 MaxPool2d) name=maxpool2d ;; PReLU_2d) name=prelu_2d ;; esac
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({"samples": [d["inputs"][0]["data"]]}))' \
        "fixtures/conformance/test_$t/inputs.json" > "$work/$name.json"
    "$Z" compile "fixtures/conformance/test_$t/model.onnx" --calibration "$work/$name.json" \
        -o "$seeds/model_reader/$name.zkm" >/dev/null
done
"$Z" prove -m "$seeds/model_reader/digits_mlp.zkm" -i fixtures/digits/input_0.json \
    -o "$seeds/bundle_reader/digits_mlp_0.zkp" >/dev/null
"$Z" prove -m "$seeds/model_reader/sigmoid_mlp.zkm" -i fixtures/digits/input_0.json \
    -o "$seeds/bundle_reader/sigmoid_mlp_0.zkp" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({"input_data": [d["inputs"][0]["data"]]}))' \
    fixtures/conformance/test_MaxPool2d/inputs.json > "$work/maxpool2d_input.json"
"$Z" prove -m "$seeds/model_reader/maxpool2d.zkm" -i "$work/maxpool2d_input.json" \
    -o "$seeds/bundle_reader/maxpool2d.zkp" >/dev/null
echo "seeds remade in $seeds"
