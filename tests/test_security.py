"""Security basics: no pickle loading of stored artefacts, localhost binding by default,
upload limits configured, and user-provided names kept inside the data and run folders."""

from __future__ import annotations

import ast
import io
import re
import zipfile

import pytest
from conftest import REPO

from gda_core.errors import RunError
from gda_core.runs import RunStore

SOURCES = [p for d in ("gda_core", "pages") for p in (REPO / d).rglob("*.py")] + [
    REPO / "app.py"]


def _calls(name: str):
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if ast.unparse(node.func) == name:
                    yield path, node


def test_every_torch_load_is_weights_only():
    """A lint over the source: catches the plain spelling only (an alias of ``torch.load``
    would pass it); what proves that no loader runs code is
    :func:`test_a_crafted_checkpoint_runs_no_code`."""
    found = list(_calls("torch.load"))
    assert found, "expected checkpoint loading somewhere"
    for path, node in found:
        kw = {k.arg: k.value for k in node.keywords}
        assert "weights_only" in kw and ast.literal_eval(kw["weights_only"]) is True, (
            f"{path.relative_to(REPO)}:{node.lineno} loads without weights_only=True")


@pytest.mark.parametrize("name", ["pickle.load", "pickle.loads", "eval", "exec"])
def test_no_pickle_or_eval_on_stored_data(name):
    hits = [f"{p.relative_to(REPO)}:{n.lineno}" for p, n in _calls(name)]
    assert not hits, f"{name} used in {hits}"


def test_app_binds_to_localhost_with_an_upload_limit():
    text = (REPO / ".streamlit" / "config.toml").read_text()
    server = text.split("[server]", 1)[1].split("\n[", 1)[0]
    address = re.search(r'^address\s*=\s*"([^"]+)"', server, re.M)
    limit = re.search(r"^maxUploadSize\s*=\s*(\d+)", server, re.M)
    assert address and address.group(1) in ("localhost", "127.0.0.1")
    assert limit and 1 <= int(limit.group(1)) <= 1024


@pytest.mark.parametrize("bad", ["../x", "/etc", "20261125-023012-ab12/../..", "..", ""])
def test_run_ids_cannot_escape_the_run_folder(tmp_path, bad):
    store = RunStore(tmp_path / "runs")
    with pytest.raises(RunError):
        store.artifact_dir(bad)


def test_artifact_kinds_cannot_escape(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run("demo", {})
    for kind in ("../x", "a/b", "/abs", "A"):
        with pytest.raises((RunError, ValueError)):
            store.save_artifact(run_id, kind, b"x")


def test_uploaded_zip_stays_inside_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    from pages._common import save_upload

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("cls/a.txt", "ok")
        zf.writestr("../../outside.txt", "no")
        zf.writestr("/abs.txt", "no")
    dest = save_upload("../../evil name.zip", buf.getvalue())
    assert dest.resolve().is_relative_to((tmp_path / "data").resolve())
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to((tmp_path / "data").resolve()) for p in written)
    assert not (tmp_path / "outside.txt").exists()


# ----------------------------------------------------------- behaviour, not source text
class _Payload:
    """Unpickling this would run code: it creates the file ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("loader", ["dcgan", "cgan", "madgan", "adso", "features"])
def test_a_crafted_checkpoint_runs_no_code(loader, tmp_path):
    """A checkpoint whose pickle would create a file: loading it is refused with a clear
    message and the file is never created (torch.load(weights_only=True) in practice)."""
    import torch

    from gda_core.errors import GDAError
    from gda_core.metrics.features import FeatureExtractor
    from gda_core.synthesizers import SYNTHESIZERS

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "x", "version": 1, "payload": _Payload(str(marker))}, path)
    load = FeatureExtractor.load if loader == "features" else SYNTHESIZERS[loader].load
    with pytest.raises(GDAError):
        load(path)
    assert not marker.exists()
