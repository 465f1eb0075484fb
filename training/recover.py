"""The networks inside an exported int8 model, recovered as trainable Keras models.

An export keeps only `emotion.tflite`; the float networks it was made from live in run folders on
whichever machine trained them. The int8 file still holds each network's weights to within their
quantisation step, so they can be read back: a member can then warm-start a student (one of the
ensemble's own networks, taught by the whole ensemble) or teach as a network.

The converter folds each batch norm into the conv before it (kernel scaled, shift as the conv's
bias). The recovered model keeps `build_moodnet`'s layers, so training it later works as for any
run: each batch norm is set to pass its conv's output through plus that bias, with its moving
statistics measured on real faces, so it computes the same function whether it normalises with
those statistics (inference) or with a batch's (training).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.architectures import build_moodnet
from training.data import LABELS

STATISTICS_FACES = 2048  # faces enough for each batch norm's moving statistics (the CLI's draw)
BN_EPSILON = 1e-3  # Keras BatchNormalization's default, which build_moodnet keeps


class RecoveryError(ValueError):
    """The file's networks do not have moodnet's shape; the message says where they differ."""


@dataclass(frozen=True)
class FoldedLayer:
    """One conv (batch norm folded in) or the dense layer, dequantised: Keras's kernel layout."""

    kernel: np.ndarray
    bias: np.ndarray
    output_size: int  # the side of the conv's square output; 0 for the dense layer


def read_members(tflite_path: str | Path) -> list[list[FoldedLayer]]:
    """Each network's layers, in the order they run, from an int8 export's weights."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # Without the default delegate, so the constant tensors stay readable after allocation.
    interpreter = Interpreter(
        model_path=str(tflite_path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}

    def dequantised(index: int) -> np.ndarray:
        values = interpreter.get_tensor(index).astype(np.float32)
        scales = tensors[index]["quantization_parameters"]["scales"]
        if len(scales) == 0:
            raise RecoveryError(
                f"{tflite_path}: tensor {tensors[index]['name']} is float; recover reads int8 "
                "exports (the shipped kind), whose layers it knows"
            )
        # Per-channel scales run along the first axis (output channels) of kernels and biases.
        shape = (len(scales),) + (1,) * (values.ndim - 1) if len(scales) > 1 else ()
        return values * np.reshape(scales, shape)

    members: list[list[FoldedLayer]] = [[]]
    kernels: list[list[int]] = [[]]  # which tensors each network reads its kernels from
    for op in interpreter._get_ops_details():  # the op list: LiteRT's only view of the graph
        if op["op_name"] not in ("CONV_2D", "FULLY_CONNECTED"):
            continue
        inputs = list(op["inputs"])
        kernel_index, bias_index = inputs[1], inputs[2] if len(inputs) > 2 else -1
        kernel = dequantised(kernel_index)
        # The converter drops a bias that is all zeros.
        bias = dequantised(bias_index) if bias_index >= 0 else np.zeros(len(kernel), np.float32)
        kernels[-1].append(int(kernel_index))
        if op["op_name"] == "CONV_2D":  # LiteRT's (out, h, w, in) → Keras's (h, w, in, out)
            side = int(tensors[op["outputs"][0]]["shape"][1])
            members[-1].append(FoldedLayer(kernel.transpose(1, 2, 3, 0), bias, side))
            continue
        # (out, in) → (in, out). The dense layer ends a network; a network read a second time
        # (on the mirror image, in an export that averages both) reads the same kernels.
        members[-1].append(FoldedLayer(kernel.T, bias, 0))
        if kernels[-1] in kernels[:-1]:
            members[-1], kernels[-1] = [], []
        else:
            members.append([])
            kernels.append([])
    return [layers for layers in members if layers]


def moodnet_shape(layers: list[FoldedLayer]) -> dict[str, Any]:
    """`build_moodnet`'s arguments for a network whose layers are these: the stem at full size,
    then per stage one strided conv and two convs for each residual block.
    """
    convs = [layer for layer in layers if layer.output_size]
    sides = sorted({layer.output_size for layer in convs[1:]}, reverse=True)
    counts = [sum(layer.output_size == side for layer in convs[1:]) for side in sides]
    if not counts or any(count % 2 == 0 for count in counts) or layers[-1].output_size:
        raise RecoveryError(
            f"the network's convs ({[c.kernel.shape for c in convs]}) do not follow moodnet's "
            "stages of one strided conv and two convs a residual block, ending in a dense layer"
        )
    stem, stages = convs[0], convs[1:]
    widths = [next(c.kernel.shape[-1] for c in stages if c.output_size == s) for s in sides]
    return {
        "input_size": stem.output_size,
        "num_classes": layers[-1].kernel.shape[-1],
        "stem_width": stem.kernel.shape[-1],
        "widths": tuple(widths),
        "blocks": tuple((count - 1) // 2 for count in counts),
    }


def rebuild(layers: list[FoldedLayer], faces: np.ndarray) -> keras.Model:
    """A `build_moodnet` model computing what `layers` compute, its batch norms' statistics
    measured on `faces` (float32 (N, 48, 48, 1) in 0..255).
    """
    model = build_moodnet(**moodnet_shape(layers))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    folded = [layer for layer in layers if layer.output_size]
    if len(convs) != len(folded) or len(norms) != len(convs):
        raise RecoveryError(f"{len(folded)} convs in the file, {len(convs)} in the rebuilt model")
    for conv, layer in zip(convs, folded, strict=True):
        if tuple(conv.kernel.shape) != layer.kernel.shape:
            raise RecoveryError(
                f"conv {conv.name}: the file's kernel is {layer.kernel.shape}, "
                f"the rebuilt model's {tuple(conv.kernel.shape)}"
            )
        conv.kernel.assign(layer.kernel)
    model.get_layer("logits").set_weights([layers[-1].kernel, layers[-1].bias])

    # First a pass-through plus bias whatever the statistics (mean 0, variance 1), so the convs'
    # outputs on real faces can be measured; then those outputs become the moving statistics.
    unit_scale = np.sqrt(1 + BN_EPSILON)
    for norm, layer in zip(norms, folded, strict=True):
        ones = np.ones_like(layer.bias)
        norm.set_weights([ones * unit_scale, layer.bias, np.zeros_like(layer.bias), ones])
    probe = keras.Model(model.input, [conv.output for conv in convs])
    outputs = probe.predict(faces, batch_size=256, verbose=0)
    for norm, layer, output in zip(norms, folded, outputs, strict=True):
        mean = output.mean(axis=(0, 1, 2))
        variance = output.var(axis=(0, 1, 2))
        scale = np.sqrt(variance + BN_EPSILON)
        norm.set_weights([scale, mean + layer.bias, mean, variance])
    return model


def recover(model_dir: str | Path, faces: np.ndarray, out_dir: str | Path) -> list[Path]:
    """Write each network of `model_dir/emotion.tflite` as `member_N.keras` in `out_dir`."""
    members = read_members(Path(model_dir) / "emotion.tflite")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, layers in enumerate(members, start=1):
        if layers[-1].kernel.shape[-1] != len(LABELS):
            raise RecoveryError(
                f"network {number} gives {layers[-1].kernel.shape[-1]} outputs, expected "
                f"{len(LABELS)} ({', '.join(LABELS)})"
            )
        path = out / f"member_{number}.keras"
        rebuild(layers, faces).save(path)
        paths.append(path)
    return paths
