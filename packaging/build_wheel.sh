#!/usr/bin/env bash
# Build the ecgstation wheel and prove that it carries the bundled samples.
#
#   bash packaging/build_wheel.sh [OUT_DIR]      (default OUT_DIR: dist)
#
# 1. builds dist/ecgstation-<version>-py3-none-any.whl with pip (no dependencies);
# 2. checks that the wheel holds every file that resources/samples/samples.json lists;
# 3. installs the wheel (without dependencies) into a throw-away virtual environment
#    and checks, from outside the source tree, that ecgstation.resources finds the
#    samples and that their SHA-256 checksums match.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-dist}"
mkdir -p "$out"
rm -rf build "$out"/ecgstation-*.whl

python -m pip wheel --no-deps --wheel-dir "$out" .
wheel="$(ls "$out"/ecgstation-*.whl)"
echo "built: $wheel"

python - "$wheel" <<'PY'
"""Check that the wheel holds the package and every bundled sample file."""
import json
import sys
import zipfile
from pathlib import Path

wheel = Path(sys.argv[1])
names = set(zipfile.ZipFile(wheel).namelist())
catalogue = json.loads(Path("resources/samples/samples.json").read_text(encoding="utf-8"))
wanted = ["samples.json", "ATTRIBUTION.md", "SHA256SUMS.txt"]
wanted += [f for sample in catalogue["samples"] for f in sample["files"]]
prefix = next((n.rsplit("samples.json", 1)[0] for n in names if n.endswith("/share/ecgstation/resources/samples/samples.json")), None)
if prefix is None:
    sys.exit(f"{wheel.name}: no share/ecgstation/resources/samples/ in the wheel; "
             "pyproject.toml needs the [tool.setuptools.data-files] table (see packaging/README.md)")
missing = [f for f in wanted if prefix + f not in names]
if missing or "ecgstation/resources.py" not in names:
    sys.exit(f"{wheel.name}: missing {missing or ['ecgstation/resources.py']}")
print(f"wheel contents ok: package + {len(wanted)} resource files")
PY

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-deps "$wheel"
(cd "$venv" && "$venv/bin/python" - <<'PY'
"""From outside the source tree: the installed wheel finds its samples, byte for byte."""
import hashlib

from ecgstation.resources import list_samples, samples_dir

folder = samples_dir()
for line in (folder / "SHA256SUMS.txt").read_text(encoding="ascii").splitlines():
    digest, name = line.split(maxsplit=1)
    if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
        raise SystemExit(f"checksum mismatch: {folder / name}")
print(f"installed wheel ok: {len(list_samples())} samples at {folder}")
PY
)
