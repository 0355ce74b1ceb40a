"""Our copy of the shared benchmark corpus generator stays byte-identical to the original."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_corpus_copy_matches_the_shared_original():
    shared = ROOT.parent / "shared" / "bench" / "corpus.py"
    if not shared.exists():
        pytest.skip("../shared/bench is not mounted here")
    assert (ROOT / "benchmarks" / "corpus" / "corpus.py").read_bytes() == shared.read_bytes()
