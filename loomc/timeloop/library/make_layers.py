"""Write the bundled DNN layer workloads (``dnn/<net>/layers/<layer>.yaml``).

Run from the project root after editing a table below::

    .venv/bin/python loomc/timeloop/library/make_layers.py

The shapes are transcribed by us from the published network descriptions
(N = 1, 224×224 inputs; AlexNet as the single-tower torchvision variant, no
groups).  Each layer is written in Timeloop's v0.4 problem format
(``problem: {shape, instance}``) with the CNN-layer shape: Weights[C][M][R][S],
Inputs[N][C][R*Wdilation + P*Wstride][S*Hdilation + Q*Hstride],
Outputs[N][M][Q][P] (read-write).  Padding is implicit in P/Q: a padded
"same" 3×3 conv at 56×56 has P = Q = 56.  Fully connected layers are CNN layers
with P = Q = 1 (R = S = the input's spatial size where the FC follows a
feature map directly).

Only unique shapes are bundled: a ResNet block repeated with the same shape
keeps the name of its first occurrence (``res2b_branch2b`` is
``res2a_branch2b``).  MobileNetV2's depthwise 3×3 layers are not bundled: they
need a grouped/depthwise problem shape (no M dimension) which the bundled
macros' constraints (written for the CNN-layer dimensions) do not cover.
``tests/timeloop/test_library.py`` checks the files equal this script's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

# name: (C, M, R, S, P, Q, stride)
Layer = tuple[int, int, int, int, int, int, int]


def _conv(c: int, m: int, k: int, p: int, stride: int = 1) -> Layer:
    return (c, m, k, k, p, p, stride)


# ResNet-50 (He et al. 2016, Table 1; Caffe naming, stride on branch2a/branch1)
RESNET50: dict[str, Layer] = {
    "conv1": _conv(3, 64, 7, 112, 2),
    "res2a_branch1": _conv(64, 256, 1, 56),
    "res2a_branch2a": _conv(64, 64, 1, 56),
    "res2a_branch2b": _conv(64, 64, 3, 56),
    "res2a_branch2c": _conv(64, 256, 1, 56),
    "res2b_branch2a": _conv(256, 64, 1, 56),
    "res3a_branch1": _conv(256, 512, 1, 28, 2),
    "res3a_branch2a": _conv(256, 128, 1, 28, 2),
    "res3a_branch2b": _conv(128, 128, 3, 28),
    "res3a_branch2c": _conv(128, 512, 1, 28),
    "res3b_branch2a": _conv(512, 128, 1, 28),
    "res4a_branch1": _conv(512, 1024, 1, 14, 2),
    "res4a_branch2a": _conv(512, 256, 1, 14, 2),
    "res4a_branch2b": _conv(256, 256, 3, 14),
    "res4a_branch2c": _conv(256, 1024, 1, 14),
    "res4b_branch2a": _conv(1024, 256, 1, 14),
    "res5a_branch1": _conv(1024, 2048, 1, 7, 2),
    "res5a_branch2a": _conv(1024, 512, 1, 7, 2),
    "res5a_branch2b": _conv(512, 512, 3, 7),
    "res5a_branch2c": _conv(512, 2048, 1, 7),
    "res5b_branch2a": _conv(2048, 512, 1, 7),
    "fc1000": _conv(2048, 1000, 1, 1),
}

# VGG16 (Simonyan & Zisserman 2015, configuration D); conv3_3 = conv3_2 etc.
VGG16: dict[str, Layer] = {
    "conv1_1": _conv(3, 64, 3, 224),
    "conv1_2": _conv(64, 64, 3, 224),
    "conv2_1": _conv(64, 128, 3, 112),
    "conv2_2": _conv(128, 128, 3, 112),
    "conv3_1": _conv(128, 256, 3, 56),
    "conv3_2": _conv(256, 256, 3, 56),
    "conv4_1": _conv(256, 512, 3, 28),
    "conv4_2": _conv(512, 512, 3, 28),
    "conv5_1": _conv(512, 512, 3, 14),
    "fc6": _conv(512, 4096, 7, 1),
    "fc7": _conv(4096, 4096, 1, 1),
    "fc8": _conv(4096, 1000, 1, 1),
}

# AlexNet, single-tower variant (as in torchvision: 64/192/384/256/256 filters)
ALEXNET: dict[str, Layer] = {
    "conv1": _conv(3, 64, 11, 55, 4),
    "conv2": _conv(64, 192, 5, 27),
    "conv3": _conv(192, 384, 3, 13),
    "conv4": _conv(384, 256, 3, 13),
    "conv5": _conv(256, 256, 3, 13),
    "fc6": _conv(256, 4096, 6, 1),
    "fc7": _conv(4096, 4096, 1, 1),
    "fc8": _conv(4096, 1000, 1, 1),
}

# MobileNetV2 (Sandler et al. 2018, Table 2): the full first conv, the unique 1×1
# expansion/projection convs (named by the first block b<i> that has the shape),
# the last 1×1 conv and the classifier.
MOBILENETV2: dict[str, Layer] = {
    "conv1": _conv(3, 32, 3, 112, 2),
    "b0_project": _conv(32, 16, 1, 112),
    "b1_expand": _conv(16, 96, 1, 112),
    "b1_project": _conv(96, 24, 1, 56),
    "b2_expand": _conv(24, 144, 1, 56),
    "b2_project": _conv(144, 24, 1, 56),
    "b3_project": _conv(144, 32, 1, 28),
    "b4_expand": _conv(32, 192, 1, 28),
    "b4_project": _conv(192, 32, 1, 28),
    "b6_project": _conv(192, 64, 1, 14),
    "b7_expand": _conv(64, 384, 1, 14),
    "b7_project": _conv(384, 64, 1, 14),
    "b10_project": _conv(384, 96, 1, 14),
    "b11_expand": _conv(96, 576, 1, 14),
    "b11_project": _conv(576, 96, 1, 14),
    "b13_project": _conv(576, 160, 1, 7),
    "b14_expand": _conv(160, 960, 1, 7),
    "b14_project": _conv(960, 160, 1, 7),
    "b16_project": _conv(960, 320, 1, 7),
    "conv_last": _conv(320, 1280, 1, 7),
    "fc": _conv(1280, 1000, 1, 1),
}

NETWORKS: dict[str, dict[str, Layer]] = {
    "resnet50": RESNET50, "vgg16": VGG16, "alexnet": ALEXNET, "mobilenetv2": MOBILENETV2,
}

_SHAPE = """\
  shape:
    name: CNN_Layer
    dimensions: [C, M, R, S, N, P, Q]
    coefficients:
    - {name: Wstride, default: 1}
    - {name: Hstride, default: 1}
    - {name: Wdilation, default: 1}
    - {name: Hdilation, default: 1}
    data_spaces:
    - name: Weights
      projection:
      - [[C]]
      - [[M]]
      - [[R]]
      - [[S]]
    - name: Inputs
      projection:
      - [[N]]
      - [[C]]
      - [[R, Wdilation], [P, Wstride]]
      - [[S, Hdilation], [Q, Hstride]]
    - name: Outputs
      projection:
      - [[N]]
      - [[M]]
      - [[Q]]
      - [[P]]
      read_write: true
"""


def layer_yaml(net: str, name: str, layer: Layer) -> str:
    """The problem YAML of one layer."""
    c, m, r, s, p, q, stride = layer
    return (f"# {net} {name}: C={c} M={m} R={r} S={s} P={p} Q={q} stride={stride} "
            "(written by loomc from the published shape)\n"
            "problem:\n  version: 0.4\n" + _SHAPE +
            "  instance:\n"
            f"    C: {c}\n    M: {m}\n    R: {r}\n    S: {s}\n    N: 1\n"
            f"    P: {p}\n    Q: {q}\n"
            f"    Wstride: {stride}\n    Hstride: {stride}\n"
            "    Wdilation: 1\n    Hdilation: 1\n")


def expected_files() -> dict[str, str]:
    """Relative path → text of every bundled layer."""
    return {f"dnn/{net}/layers/{name}.yaml": layer_yaml(net, name, layer)
            for net, layers in NETWORKS.items() for name, layer in layers.items()}


def main() -> int:
    root = Path(__file__).resolve().parent
    for rel, text in expected_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(expected_files())} layers under {root / 'dnn'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
