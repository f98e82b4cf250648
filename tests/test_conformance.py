"""The shared conformance corpus (../shared/conformance, see its README.md and MANIFEST.tsv).

* Every file libjpeg-turbo 3.2.0 decodes (baseline, extended, progressive, Huffman or arithmetic-coded,
  and the crash-corpus files it recovers) decodes to exactly libjpeg-turbo's pixels; for the non-crash files also exactly to
  ``np.asarray(Image.open(f))`` (with ``LOAD_TRUNCATED_IMAGES`` where Pillow needs it).
* Lossless and 12-bit files raise ``fdjpeg.UnsupportedJPEG``; the PNG raises
  ``fdjpeg.JPEGError``.
* Every crash-corpus file decodes or raises ``fdjpeg.JPEGError`` within the time limit, in a worker
  process with a capped address space -- never another exception, a hang or a dead process.

With ``FDJPEG_UPDATE_CONFORMANCE=1`` set (the variable the interop matrix uses too), the module writes the
results table into spec/conformance.md (between its BEGIN/END markers) when the whole corpus has run;
otherwise it leaves the file alone. ``python tests/conformance_report.py --write`` does the same by hand.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conformance_report as cr  # noqa: E402

if not (cr.CORPUS / "MANIFEST.tsv").exists():
    pytest.skip(f"conformance corpus not found at {cr.CORPUS}", allow_module_level=True)
pytest.importorskip("fdjpeg.reader", reason="fdjpeg.reader (parsing + entropy decoding) not in the tree yet")

ROWS = cr.read_manifest()


@pytest.fixture(scope="module")
def corpus_results():
    results = {r.name: r for r in cr.run_corpus(ROWS)}
    yield results
    if os.environ.get("FDJPEG_UPDATE_CONFORMANCE") == "1":
        cr.write_spec(cr.render_markdown([results[row["path"]] for row in ROWS]))


@pytest.mark.parametrize("row", ROWS, ids=[r["path"].split("/images/")[-1] for r in ROWS])
def test_corpus_file(row, corpus_results):
    res = corpus_results[row["path"]]
    problem = res.problem()
    assert problem is None, f"{row['path']}: {problem}"
    assert res.seconds <= cr.TIME_LIMIT_S


def test_corpus_counts(corpus_results):
    """The counts the README promises: libjpeg-turbo decodes 36 of the 111 crash files; we decode the
    same 36 exactly, and every baseline/extended-8-bit/progressive file exactly."""
    results = list(corpus_results.values())
    crash = [r for r in results if r.row["category"] == "crash"]
    assert len(crash) == 111
    assert sum(r.verdict == "exact" for r in crash) == sum(r.libjpeg_decodes for r in crash)
    lossy = [r for r in results if r.row["category"] in ("baseline", "progressive", "extended", "arithmetic")
             and not cr.unsupported_feature(r.row)]
    assert any(r.row["category"] == "arithmetic" for r in lossy)
    assert all(r.verdict == "exact" for r in lossy)
    assert not any(r.verdict == "crash" for r in results)
