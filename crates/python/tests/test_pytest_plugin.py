"""The ``onnx_parity`` fixture under pytester: the first run stores and fails, the second passes, a
changed module fails naming its module, and ``--parity-regen`` accepts the change. Each run is a
subprocess (torch cannot be imported twice in one interpreter)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST = '''
import torch

BUMP = {bump}


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first = torch.nn.Linear(4, 8)
        self.second = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def make():
    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        net.second.weight[0, 0] += BUMP
    return net


def test_net(onnx_parity):
    net = make()
    onnx_parity.check(net, (torch.randn(2, 4),), name="net"{options})
'''


def write(pytester: pytest.Pytester, bump: float, options: str = ', backends=["ort", "tract"]') -> None:
    pytester.makepyfile(test_model=TEST.format(bump=bump, options=options))


def test_store_then_pass_then_catch_a_change_then_accept_it(pytester: pytest.Pytester) -> None:
    write(pytester, 0.0)
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*no stored data: wrote the exports and PyTorch goldens to*test_model*net*"])
    stored = pytester.path / "test_model" / "net"
    assert (stored / "legacy.onnx").is_file() and (stored / "golden" / "dynamo" / "manifest.json").is_file()

    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)

    write(pytester, 0.5)
    changed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(["*no longer computes what was stored*"])
    changed.stdout.fnmatch_lines(["*legacy*ort*fail*second (Linear)*"])
    changed.stdout.fnmatch_lines(["*dynamo*tract*fail*second (Linear)*"])

    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--parity-regen").assert_outcomes(passed=1)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_parity_backends_option_chooses_the_backends(pytester: pytest.Pytester) -> None:
    write(pytester, 0.0, options="")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--parity-regen", "--parity-backends=rten").assert_outcomes(passed=1)
    write(pytester, 0.5, options="")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--parity-backends=rten")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*legacy*rten*fail*"])
    assert "tract" not in result.stdout.str()
