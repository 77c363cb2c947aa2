#!/usr/bin/env python3
"""Full-size MLPerf Tiny reference architectures (untrained), as float32 TFLite, for measuring
zkinfer at the references' sizes (README, Performance). Not fixtures: nothing here is committed.

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
Weights: keras.utils.set_random_seed(0) before each build; untrained (BN gamma 1, beta 0,
moving mean 0, var 1, eps 1e-3 -> folds into the preceding conv/dense).
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
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

from fixture_util import dump  # noqa: E402
from make_tflite import OpResolverType, bn_relu, count_macs, make_interp, op_details, run_interp  # noqa: E402

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


def convert(model, input_shape):
    if ROUTE == "keras":
        try:
            return tf.lite.TFLiteConverter.from_keras_model(model).convert(), "from_keras_model"
        except Exception as e:  # fall back to the fixtures/make_tflite.py route
            print(f"   from_keras_model failed ({type(e).__name__}: {e}); using ExportArchive")
    spec = tf.TensorSpec([1] + list(input_shape), tf.float32, name="input")
    sm_dir = tempfile.mkdtemp(prefix="sm_")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serve", fn=lambda x: {"output": model(x, training=False)},
                         input_signature=[spec])
    archive.write_out(sm_dir, verbose=False)
    flat = tf.lite.TFLiteConverter.from_saved_model(sm_dir, signature_keys=["serve"]).convert()
    shutil.rmtree(sm_dir, ignore_errors=True)
    return flat, "ExportArchive+from_saved_model"


def build(name, make_model, input_shape, seed):
    print(f"== {name}", flush=True)
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
    counts = {}
    for l in lines:
        k = l.split(" ")[0]
        counts[k] = counts.get(k, 0) + 1
    print(f"   op counts {counts}")
    print(f"   tflite(ref) vs keras max |diff| on {N_CAL} cal samples: {maxdiff:.3g}; "
          f"sample0 output[:12] {np.round(outs[0][:12], 5).tolist()}", flush=True)
    print(f"   max |input of last layer| per cal sample: {[float(f'{v:.3g}') for v in fmax]}")


def main():
    build("kws_full", kws_full, [49, 10, 1], seed=101)
    build("vww_full", vww_full, [96, 96, 3], seed=102)
    build("ad_full", ad_full, [640], seed=103)


if __name__ == "__main__":
    main()
