#!/usr/bin/env python3
"""Full-size MLPerf Tiny reference architectures (untrained), as float32 and as full-integer int8
TFLite, for measuring zkinfer at the references' sizes (README, Performance). Not fixtures: nothing
here is committed.

Architectures follow the public mlcommons/tiny Keras definitions:
  kws_full  keyword_spotting keras_model.py 'ds_cnn': input 49x10x1; Conv2D 64 (10,4) s2 same,
            BN, ReLU; 4 x [DepthwiseConv2D 3x3 same, BN, ReLU, Conv2D 64 1x1 same, BN, ReLU];
            AveragePooling2D(final_pool_size=(49//2, 10//2)=(24,5)) on the 25x5 map -> 1x1;
            Flatten; Dense 12 softmax. Default Keras initializers. (Dropout omitted: identity
            at inference.)
  vww_full  visual_wake_words vww_model.py mobilenet_v1(): 96x96x3, 8 first filters (alpha
            0.25), 13 depthwise-separable blocks, strides 1,2,1,2,1,2,1,1,1,1,1,2,1 ->
            filters 16,32,32,64,64,128x6,256,256; AveragePooling2D(3x3); Flatten; Dense 2
            softmax. he_normal kernels as in the reference (biases zero).
  ad_full   anomaly_detection keras_model.py get_model(640): 4 x (Dense 128, BN, ReLU),
            Dense 8 + BN + ReLU, 4 x (Dense 128, BN, ReLU), Dense 640 linear. Default init.
  ic_full   image_classification keras_model.py resnet_v1_eembc(): ResNet-8 on 32x32x3; Conv2D
            16 3x3 same, BN, ReLU; stack 1: 2 x Conv2D 16 3x3 (BN, ReLU between; BN after),
            identity shortcut, Add, ReLU; stacks 2 and 3 (32, 64 filters): Conv2D 3x3 stride 2,
            BN, ReLU, Conv2D 3x3, BN, shortcut Conv2D 1x1 stride 2, Add, ReLU;
            AveragePooling2D(8); Flatten; Dense 10 softmax. he_normal kernels everywhere, as in
            the reference (so INIT does not change it; L2 regularization omitted: no effect on
            the inference graph).
Weights: keras.utils.set_random_seed(0) before each build; untrained (BN gamma 1, beta 0,
moving mean 0, var 1, eps 1e-3 -> folds into the preceding conv/dense).

Inputs: per model a np.random.default_rng(seed) (kws 101, vww 102, ad 103, ic 104) draws
uniform [0, 1) values rounded to multiples of 1/64: first the N_CAL = 4 calibration samples,
then the N_REPR = 32 samples of the int8 representative dataset (so the int8 test inputs, cal
samples 0 and 1, are not in the representative dataset).

Files, per model <name>, in OUT (target/mlperf/, or target/mlperf/he/ with INIT=he):
  <name>.tflite        float32 model
  <name>_cal.json      {"samples": [N_CAL float inputs]}
  <name>_in.json       {"input_data": [sample 0]}
  <name>_int8.tflite   full-integer int8 model, converted as users do: the same converter route
                       as the float file (ROUTE), optimizations = [Optimize.DEFAULT],
                       representative_dataset = the N_REPR samples (batch 1),
                       target_spec.supported_ops = [TFLITE_BUILTINS_INT8],
                       inference_input_type = inference_output_type = int8
  <name>_int8.json     {"model", "route", "bytes", "ops" (one line per op, as
                       fixtures/make_tflite.py's index.json), "op_counts", "macs", "params",
                       "input_shape", "input_scale", "input_zero_point", "output_shape",
                       "output_scale", "output_zero_point", "final_op", "logits_tensor",
                       "logits_scale", "logits_zero_point", "logits_shape", "case_input_ties",
                       "cases": [{"cal_sample", "input_float", "input_int8", "output_int8_ref",
                       "output_int8_default", "logits_int8_ref"}, ...]}
                       with N_INT8_CASES = 2 cases (cal samples 0 and 1). input_int8 =
                       fixtures/make_tflite.py quantize() (TFLite's QUANTIZE rounding);
                       output_int8_ref / logits_int8_ref from LiteRT's reference kernels
                       (OpResolverType.BUILTIN_REF, experimental_preserve_all_tensors=True),
                       output_int8_default from OpResolverType.AUTO. "logits_*" are SOFTMAX's
                       int8 input when the last op is SOFTMAX, else the output tensor itself
                       (ad_full), as in fixtures/tflite/<name>/int8_logits.json. Key names
                       follow fixtures/tflite/<name>/int8.json and int8_logits.json (one file
                       here), so code that reads those can read these.
Run (the TensorFlow venv of fixtures/requirements-tflite.txt):
  INIT=he .venv-tflite/bin/python benches/mlperf/make_full_tflite.py   # -> target/mlperf/he/
INIT=he gives activations that do not vanish in the untrained depthwise stacks (see below).
"""
import os
import sys

# The fixture scripts' helpers (flatbuffer op listing, MAC count, LiteRT reference interpreter, JSON
# writing); importing make_tflite applies its TensorFlow settings (one thread, determinism, quiet).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures"))
import tf_env  # noqa: E402

tf_env.setup()

import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

from fixture_util import dump, fl, flist  # noqa: E402
from make_tflite import (OpResolverType, bn_relu, count_macs, count_ties, int_list,  # noqa: E402
                         make_interp, op_details, quantize, run_interp, tflite_ops)
from record_tflite_logits import ref_interp, run, scale_zp, tensor_detail  # noqa: E402

warnings.filterwarnings("ignore")
tf.get_logger().setLevel("ERROR")
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

OUT = os.environ.get(
    "OUT",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "mlperf"),
)
os.makedirs(OUT, exist_ok=True)
N_CAL = 4
N_REPR = 32  # int8 representative dataset
N_INT8_CASES = 2  # int8 test inputs (cal samples 0..N_INT8_CASES-1)
# ops the int8 models are expected to use (anything else is reported)
BASIC_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "AVERAGE_POOL_2D",
             "MAX_POOL_2D", "RESHAPE", "PAD", "CONCATENATION", "QUANTIZE", "DEQUANTIZE", "SOFTMAX"}
# "keras" = TFLiteConverter.from_keras_model (batch dim dynamic in shape_signature);
# "export" = ExportArchive + from_saved_model with batch fixed at 1 (fixtures/make_tflite.py).
ROUTE = os.environ.get("ROUTE", "keras")
# INIT=he: he_normal for every conv / dense kernel and N(0, 2/(kh*kw)) for depthwise kernels
# (Keras' fan_in for a depthwise kernel [kh,kw,C,1] is kh*kw*C, so its default glorot_uniform
# shrinks activations ~C-fold-ish per block: the untrained default-init KWS/VWW outputs are a
# uniform softmax). Files then go to OUT/he/. Default: Keras defaults (+ the reference's
# he_normal in VWW conv kernels).
HE_ALL = os.environ.get("INIT", "default") == "he"
K_INIT = {"kernel_initializer": "he_normal"} if HE_ALL else {}



def dw_init():
    """A fresh initializer per layer (one unseeded Keras 3 initializer instance reused across
    layers returns identical values on each call)."""
    if not HE_ALL:
        return {}
    return {"depthwise_initializer": keras.initializers.RandomNormal(stddev=(2.0 / 9.0) ** 0.5)}
if HE_ALL:
    OUT = os.path.join(OUT, "he")
    os.makedirs(OUT, exist_ok=True)


def kws_full():
    inp = keras.Input(shape=(49, 10, 1), batch_size=1, name="input")
    x = bn_relu(layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same", **K_INIT)(inp))
    for _ in range(4):
        x = bn_relu(layers.DepthwiseConv2D((3, 3), depth_multiplier=1, padding="same", **dw_init())(x))
        x = bn_relu(layers.Conv2D(64, (1, 1), padding="same", **K_INIT)(x))
    x = layers.AveragePooling2D(pool_size=(49 // 2, 10 // 2))(x)  # (24,5) as in the reference
    x = layers.Flatten()(x)
    out = layers.Dense(12, activation="softmax", name="output", **K_INIT)(x)
    return keras.Model(inp, out, name="kws_full")


def vww_full():
    he = "he_normal"
    inp = keras.Input(shape=(96, 96, 3), batch_size=1, name="input")
    x = bn_relu(layers.Conv2D(8, 3, strides=2, padding="same", kernel_initializer=he)(inp))
    f = 8
    for s, double in [(1, 1), (2, 1), (1, 0), (2, 1), (1, 0), (2, 1),
                      (1, 0), (1, 0), (1, 0), (1, 0), (1, 0), (2, 1), (1, 0)]:
        # the reference passes kernel_initializer='he_normal' to DepthwiseConv2D, which tf.keras 2
        # ignored (the depthwise kernel uses depthwise_initializer, default glorot_uniform); Keras 3
        # rejects the argument, so it is left out: same initializers as the reference.
        x = bn_relu(layers.DepthwiseConv2D(3, strides=s, padding="same", **dw_init())(x))
        f *= 2 if double else 1
        x = bn_relu(layers.Conv2D(f, 1, strides=1, padding="same", kernel_initializer=he)(x))
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = layers.Flatten()(x)
    out = layers.Dense(2, activation="softmax", name="output", **K_INIT)(x)
    return keras.Model(inp, out, name="vww_full")


def ad_full(d=640):
    inp = keras.Input(shape=(d,), batch_size=1, name="input")
    x = inp
    for _ in range(4):
        x = bn_relu(layers.Dense(128, **K_INIT)(x))
    x = bn_relu(layers.Dense(8, **K_INIT)(x))
    for _ in range(4):
        x = bn_relu(layers.Dense(128, **K_INIT)(x))
    out = layers.Dense(d, name="output", **K_INIT)(x)
    return keras.Model(inp, out, name="ad_full")


def ic_full():
    he = "he_normal"
    inp = keras.Input(shape=(32, 32, 3), batch_size=1, name="input")
    x = bn_relu(layers.Conv2D(16, 3, strides=1, padding="same", kernel_initializer=he)(inp))
    for i, nf in enumerate([16, 32, 64]):
        s = 1 if i == 0 else 2
        y = bn_relu(layers.Conv2D(nf, 3, strides=s, padding="same", kernel_initializer=he)(x))
        y = layers.BatchNormalization()(
            layers.Conv2D(nf, 3, strides=1, padding="same", kernel_initializer=he)(y))
        if s != 1:  # stacks 2 and 3: 1x1 stride-2 projection of the shortcut
            x = layers.Conv2D(nf, 1, strides=s, padding="same", kernel_initializer=he)(x)
        x = layers.ReLU()(layers.Add()([x, y]))
    x = layers.AveragePooling2D(pool_size=int(min(x.shape[1:3])))(x)  # 8x8 -> 1x1
    x = layers.Flatten()(x)
    out = layers.Dense(10, activation="softmax", kernel_initializer=he, name="output")(x)
    return keras.Model(inp, out, name="ic_full")


def _set_int8(conv, input_shape, repr_samples):
    """Full-integer int8 settings, as a user converting for a microcontroller sets them."""
    def rep():
        for s in repr_samples:
            yield [s.reshape([1] + list(input_shape)).astype(np.float32)]

    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8


def convert(model, input_shape, repr_samples=None):
    """Float32 TFLite, or full-integer int8 when repr_samples (the representative dataset, flat
    float32 rows) is given. Returns (flatbuffer bytes, route)."""
    if ROUTE == "keras":
        try:
            conv = tf.lite.TFLiteConverter.from_keras_model(model)
            if repr_samples is not None:
                _set_int8(conv, input_shape, repr_samples)
            return conv.convert(), "from_keras_model"
        except Exception as e:  # fall back to the fixtures/make_tflite.py route
            print(f"   from_keras_model failed ({type(e).__name__}: {e}); using ExportArchive")
    spec = tf.TensorSpec([1] + list(input_shape), tf.float32, name="input")
    sm_dir = tempfile.mkdtemp(prefix="sm_")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serve", fn=lambda x: {"output": model(x, training=False)},
                         input_signature=[spec])
    archive.write_out(sm_dir, verbose=False)
    conv = tf.lite.TFLiteConverter.from_saved_model(sm_dir, signature_keys=["serve"])
    if repr_samples is not None:
        _set_int8(conv, input_shape, repr_samples)
    flat = conv.convert()
    shutil.rmtree(sm_dir, ignore_errors=True)
    return flat, "ExportArchive+from_saved_model"


def op_counts(lines):
    counts = {}
    for l in lines:
        k = l.split(" ")[0]
        counts[k] = counts.get(k, 0) + 1
    return counts


def build_int8(name, model, input_shape, cases_x, repr_x):
    """<name>_int8.tflite and <name>_int8.json (see the module docstring)."""
    t0 = time.time()
    flat, route = convert(model, input_shape, repr_x)
    path = os.path.join(OUT, f"{name}_int8.tflite")
    with open(path, "wb") as f:
        f.write(flat)
    t_conv = time.time() - t0

    it = ref_interp(path)  # BUILTIN_REF, preserve_all_tensors, one thread
    it_def = make_interp(path, OpResolverType.AUTO)
    ind, outd = it.get_input_details()[0], it.get_output_details()[0]
    assert ind["dtype"] == np.int8 and outd["dtype"] == np.int8, (ind["dtype"], outd["dtype"])
    in_s, in_zp = scale_zp(ind)
    out_s, out_zp = scale_zp(outd)
    lines = op_details(path)
    assert tflite_ops(it) == [l.split(" ")[0] for l in lines]
    ops = it._get_ops_details()
    last = ops[-1]
    assert int(last["outputs"][0]) == outd["index"], "last op does not produce the output"
    final_op = last["op_name"]
    logits_idx = int(last["inputs"][0]) if final_op == "SOFTMAX" else outd["index"]
    lt = tensor_detail(it, logits_idx)
    assert np.dtype(lt["dtype"]) == np.int8, lt
    l_s, l_zp = scale_zp(lt)

    cases, deq_diff, agree = [], 0.0, []
    for i, x in enumerate(cases_x):
        xq = quantize(x, in_s, in_zp)
        run(it, xq)
        out = it.get_tensor(outd["index"]).reshape(-1).copy()
        logits = it.get_tensor(logits_idx).reshape(-1).copy()
        out_def = run_interp(it_def, xq).reshape(-1)
        ker = model(x.reshape([1] + list(input_shape)), training=False).numpy().reshape(-1)
        deq = (out.astype(np.float64) - out_zp) * out_s
        deq_diff = max(deq_diff, float(np.max(np.abs(deq - ker))))
        agree.append(int(np.argmax(deq)) == int(np.argmax(ker)))
        cases.append({"cal_sample": i, "input_float": flist(x), "input_int8": int_list(xq),
                      "output_int8_ref": int_list(out), "output_int8_default": int_list(out_def),
                      "logits_int8_ref": int_list(logits)})

    counts = op_counts(lines)
    extra = sorted(set(counts) - BASIC_OPS)
    macs = count_macs(model)
    dump({"model": os.path.basename(path), "route": route, "bytes": len(flat), "ops": lines,
          "op_counts": counts, "macs": macs, "params": int(model.count_params()),
          "input_shape": int_list(ind["shape"]), "input_scale": fl(in_s),
          "input_zero_point": in_zp, "output_shape": int_list(outd["shape"]),
          "output_scale": fl(out_s), "output_zero_point": out_zp, "final_op": final_op,
          "logits_tensor": lt["name"], "logits_scale": fl(l_s), "logits_zero_point": l_zp,
          "logits_shape": int_list(lt["shape"]), "case_input_ties": count_ties(cases_x, in_s),
          "cases": cases}, os.path.join(OUT, f"{name}_int8.json"))

    ref_vs_def = sum(int(np.sum(np.array(c["output_int8_ref"]) != np.array(c["output_int8_default"])))
                     for c in cases)
    print(f"   int8: route {route}; {path} ({len(flat)} bytes); converted in {t_conv:.1f} s; "
          f"MACs {macs}; input scale {fl(in_s)} zp {in_zp}; output scale {fl(out_s)} zp {out_zp}")
    for l in lines:
        print(f"   {l}")
    print(f"   int8 op counts {counts}; ops outside the basic set: {extra or 'none'}")
    print(f"   int8 final op {final_op}, logits scale {fl(l_s)} zp {l_zp}; case0 logits[:12] "
          f"{cases[0]['logits_int8_ref'][:12]}; case0 output[:12] "
          f"{cases[0]['output_int8_ref'][:12]}")
    print(f"   int8 dequantized vs keras on {len(cases)} cases: max |diff| {deq_diff:.3g}, "
          f"argmax agrees {agree}; ref vs AUTO: {ref_vs_def} output bytes differ", flush=True)


def build(name, make_model, input_shape, seed):
    print(f"== {name}", flush=True)
    t0 = time.time()
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = make_model()
    flat, route = convert(model, input_shape)
    path = os.path.join(OUT, f"{name}.tflite")
    with open(path, "wb") as f:
        f.write(flat)

    rng = np.random.default_rng(seed)
    n = int(np.prod(input_shape))
    cal = (np.round(rng.uniform(0.0, 1.0, size=(N_CAL, n)) * 64) / 64).astype(np.float32)
    samples = [[float(v) for v in s] for s in cal]
    dump({"samples": samples}, os.path.join(OUT, f"{name}_cal.json"))
    dump({"input_data": [samples[0]]}, os.path.join(OUT, f"{name}_in.json"))

    # sanity: TFLite (reference kernels) vs Keras on the calibration samples
    it = make_interp(path, OpResolverType.BUILTIN_REF)
    outs = np.stack([run_interp(it, c).reshape(-1) for c in cal])
    ker = model(cal.reshape([N_CAL] + list(input_shape)), training=False).numpy().reshape(N_CAL, -1)
    maxdiff = float(np.max(np.abs(outs - ker)))

    feat = keras.Model(model.inputs, model.layers[-1].input)
    fmax = [float(np.max(np.abs(feat(c.reshape([1] + list(input_shape)), training=False).numpy())))
            for c in cal]
    lines = op_details(path)
    print(f"   route {route}; {path} ({len(flat)} bytes); params {model.count_params()}; "
          f"MACs {count_macs(model)}")
    for l in lines:
        print(f"   {l}")
    print(f"   op counts {op_counts(lines)}")
    print(f"   tflite(ref) vs keras max |diff| on {N_CAL} cal samples: {maxdiff:.3g}; "
          f"sample0 output[:12] {np.round(outs[0][:12], 5).tolist()}", flush=True)
    print(f"   max |input of last layer| per cal sample: {[float(f'{v:.3g}') for v in fmax]}")

    # int8: representative dataset drawn after the cal samples (the float files stay as before)
    rep = (np.round(rng.uniform(0.0, 1.0, size=(N_REPR, n)) * 64) / 64).astype(np.float32)
    build_int8(name, model, input_shape, cal[:N_INT8_CASES], rep)
    print(f"   {name}: {time.time() - t0:.1f} s", flush=True)


def main():
    t0 = time.time()
    build("kws_full", kws_full, [49, 10, 1], seed=101)
    build("vww_full", vww_full, [96, 96, 3], seed=102)
    build("ad_full", ad_full, [640], seed=103)
    build("ic_full", ic_full, [32, 32, 3], seed=104)
    print(f"wrote {os.path.abspath(OUT)} in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
