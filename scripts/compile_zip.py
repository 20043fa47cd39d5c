"""Ship bytecode in the Lambda zip: every module compiled, sourceless, for the stage's Python.

Zappa zips sources without ``__pycache__`` and stamps every file with a 1980 date, so each cold start
compiled the whole package again (on a read-only /var/task, without keeping the result). This
rewrites the zip with each ``.py`` replaced by its sourceless ``.pyc`` beside it (``compileall -b``
layout): with no source to compare against, Python loads the bytecode as it is. Zappa's own entry
points (``handler.py``, ``zappa_settings.py``) stay sources. Usage:

    python scripts/compile_zip.py ZIP STAGE   # STAGE's "runtime" in zappa_settings.json must be this Python
"""

from __future__ import annotations

import compileall
import json
import sys
import tempfile
import zipfile
from pathlib import Path

KEPT_AS_SOURCE = {"handler.py", "zappa_settings.py"}


def stage_setting(settings: dict[str, dict[str, object]], stage: str, name: str) -> object:
    """A stage's setting, following its ``extends`` chain as Zappa does."""
    while name not in settings[stage] and "extends" in settings[stage]:
        stage = str(settings[stage]["extends"])
    return settings[stage][name]


def main(zip_path: Path, stage: str) -> None:
    """Replace the modules of ``zip_path`` by sourceless bytecode compiled by this interpreter."""
    runtime = stage_setting(json.loads(Path("zappa_settings.json").read_text()), stage, "runtime")
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        sys.exit(f"compile_zip: the stage runs {runtime}, this is {here}: bytecode would not load there")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
        sources = [path for path in root.rglob("*.py") if path.relative_to(root).as_posix() not in KEPT_AS_SOURCE]
        for source in sources:
            # legacy=True: foo.pyc beside foo.py, the layout Python imports without a source.
            if not compileall.compile_file(source, ddir=str(source.parent.relative_to(root)), legacy=True, quiet=2):
                sys.exit(f"compile_zip: {source.relative_to(root)} does not compile")
            source.unlink()
        rewritten = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rewritten, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(root).as_posix())
        rewritten.replace(zip_path)
    print(f"compile_zip: {len(sources)} modules shipped as bytecode in {zip_path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
