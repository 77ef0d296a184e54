"""The pytest plugin (entry point ``pytest11``): the ``onnx_parity`` fixture, in the habits of
pytest-regressions.

    def test_encoder(onnx_parity):
        onnx_parity.check(Encoder().eval(), (x,), name="encoder", atol=1e-4)

The first run exports the module, records PyTorch's goldens and intermediates under the test's data
directory (``<test dir>/<test file stem>/<name>/``) and fails, saying that it wrote them, so that CI
never passes on data it has just written; ``--parity-regen`` writes or rewrites them and passes.
Later runs export again with the installed torch and check each re-export against the stored
PyTorch goldens on every backend and against the stored export; a failure shows the table and the
culprit's PyTorch module. Nothing of torch is imported until a test uses the fixture."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ssrnet-parity")
    group.addoption("--parity-regen", action="store_true",
                    help="write or rewrite the stored exports and goldens of onnx_parity checks, and pass")
    group.addoption("--parity-backends", default=None,
                    help="comma-separated backends onnx_parity checks on (default: ort,tract,candle,rten)")


class OnnxParity:
    """The fixture's value: ``check(module, args, name=..., **verify_options)``."""

    def __init__(self, data: Path, regen: bool, backends: Sequence[str] | None) -> None:
        self.data = data
        self.regen = regen
        self.backends = backends

    def check(self, module: Any, args: Any, *, name: str, **options: Any) -> Any:
        """Verifies ``module``'s export against what is stored under ``name``; returns the
        ``Verification`` and fails the test when it does not pass (or when it wrote the data)."""
        from .pytorch._regression import against_stored

        if not name or os.sep in name or name in (".", ".."):
            raise ValueError(f"name must be a plain directory name, not {name!r}")
        options.setdefault("backends", self.backends)
        stored = self.data / name
        if self.regen or not (stored / "golden").is_dir():
            return self._store(module, args, stored, options)
        result = against_stored(module, args, stored, **options)
        if not result.passed:
            pytest.fail(f"onnx_parity '{name}': the re-export no longer computes what was stored in {stored}\n"
                        f"{result.table()}", pytrace=False)
        return result

    def _store(self, module: Any, args: Any, stored: Path, options: dict[str, Any]) -> Any:
        """Verifies into a staging directory and moves it to ``stored`` when it passes."""
        from .pytorch._verify import verify

        stored.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{stored.name}-stage-", dir=stored.parent))
        try:
            result = verify(module, args, stage, **{**options, "intermediates": True})
            if not result.passed:
                pytest.fail(f"onnx_parity '{stored.name}': the export does not compute what the module computes; "
                            f"nothing stored\n{result.table()}", pytrace=False)
            if stored.exists():
                shutil.rmtree(stored)
            os.replace(stage, stored)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        if not self.regen:
            pytest.fail(f"onnx_parity '{stored.name}': no stored data: wrote the exports and PyTorch goldens to "
                        f"{stored}; run the test again (it fails now so that CI never passes on data it has just "
                        "written)", pytrace=False)
        return result


@pytest.fixture
def onnx_parity(request: pytest.FixtureRequest) -> OnnxParity:
    """Checks a module's ONNX export against the exports and PyTorch goldens stored beside the test."""
    path = Path(request.node.path)
    backends = request.config.getoption("--parity-backends")
    return OnnxParity(
        data=path.parent / path.stem,
        regen=bool(request.config.getoption("--parity-regen")),
        backends=backends.split(",") if backends else None,
    )
