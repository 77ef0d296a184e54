"""Models with a known point of divergence, for testing `ssrnet-parity localize`. Built with onnx's helper.

    localize_cases.py perturb-conv SRC DST [--index K] [--scale 1e-3]
        DST is SRC with the weights of its K-th Conv (0-based, graph order) multiplied by (1 + scale);
        prints that Conv's node name and output value name, tab-separated.

    localize_cases.py amplify OUT_DIR
        writes OUT_DIR/amplify_reference.onnx and OUT_DIR/amplify_perturbed.onnx, two copies of
            x[1, 16] -> Mul(w1) -> Add(b) -> Relu -> Mul(1e4) -> y[1, 16]
        where the perturbed copy's w1 is off by 2e-4 in every element: a tiny error early on (the first
        Mul, node "early") that the scale by 1e4 (node "amplify") makes large. Prints "early".

Nothing here is committed: tests run it into temporary directories.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def perturb_conv(src: Path, dst: Path, index: int, scale: float) -> None:
    model = onnx.load(str(src))
    graph = model.graph
    convs = [n for n in graph.node if n.op_type == "Conv"]
    if index >= len(convs):
        sys.exit(f"{src}: has {len(convs)} Conv nodes, no Conv #{index}")
    conv = convs[index]
    inits = {t.name: t for t in graph.initializer}
    weight = inits.get(conv.input[1])
    if weight is None:
        sys.exit(f"{src}: Conv {conv.name!r} takes its weights from a node, not an initializer")
    w = numpy_helper.to_array(weight).astype(np.float32)
    weight.CopyFrom(numpy_helper.from_array((w * (1.0 + scale)).astype(np.float32), weight.name))
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    print(f"{conv.name}\t{conv.output[0]}")


def amplify(out: Path) -> None:
    rng = np.random.default_rng(0)
    w1 = rng.uniform(0.5, 1.5, size=(1, 16)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, size=(1, 16)).astype(np.float32)
    for name, weights in [("reference", w1), ("perturbed", (w1 + np.float32(2e-4)).astype(np.float32))]:
        nodes = [
            helper.make_node("Mul", ["x", "w1"], ["scaled"], name="early"),
            helper.make_node("Add", ["scaled", "b"], ["shifted"], name="bias"),
            helper.make_node("Relu", ["shifted"], ["rectified"], name="relu"),
            helper.make_node("Mul", ["rectified", "gain"], ["y"], name="amplify"),
        ]
        graph = helper.make_graph(
            nodes,
            "amplify",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
            initializer=[
                numpy_helper.from_array(weights, "w1"),
                numpy_helper.from_array(b, "b"),
                numpy_helper.from_array(np.array(1e4, dtype=np.float32), "gain"),
            ],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, str(out / f"amplify_{name}.onnx"))
    print("early")


def accumulate(out: Path) -> None:
    rng = np.random.default_rng(1)
    weights = [rng.uniform(0.97, 1.03, size=(1, 16)).astype(np.float32) for _ in range(8)]
    for name, delta in [("reference", 0.0), ("perturbed", 2e-5)]:
        nodes, inits, prev = [], [], "x"
        for i, w in enumerate(weights):
            out_name = "y" if i == len(weights) - 1 else f"v{i}"
            nodes.append(helper.make_node("Mul", [prev, f"w{i}"], [out_name], name=f"mul_{i}"))
            inits.append(numpy_helper.from_array((w + np.float32(delta)).astype(np.float32), f"w{i}"))
            prev = out_name
        graph = helper.make_graph(
            nodes,
            "accumulate",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
            initializer=inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, str(out / f"accumulate_{name}.onnx"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("perturb-conv")
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)
    p.add_argument("--index", type=int, default=0)
    p.add_argument("--scale", type=float, default=1e-3)
    for command in ("amplify", "accumulate"):
        sub.add_parser(command).add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "perturb-conv":
        perturb_conv(args.src, args.dst, args.index, args.scale)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        (amplify if args.command == "amplify" else accumulate)(args.out)


if __name__ == "__main__":
    main()
