#!/usr/bin/env bash
# Python for test/torch-interop.test.ts: a venv in .venv with torch and safetensors, so the
# tests can check our checkpoints against torch.optim.Adadelta itself. Idempotent, and silent
# once done.
#
# Only PyPI is reachable, and PyPI's Linux torch wheel is the CUDA build: `pip install torch
# --no-deps` plus the pure-Python deps does not import (libtorch_global_deps needs
# libcudart.so), so the nvidia wheels come along (~5 GB, ~2 min). CPU ops are all we use. A
# local CPU wheel in pip's find-links directory (/opt/wheels) is preferred when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.adadelta-python-ready"
[ -f "$STAMP" ] && [ -x "$VENV/bin/python" ] && exit 0

echo "setup-python: installing torch and safetensors into $VENV (first time only; PyPI's torch wheel is ~5 GB with its CUDA libraries)" >&2
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"

TORCH=torch
for wheel in /opt/wheels/torch-*.whl; do
  if [ -f "$wheel" ]; then TORCH="$wheel"; fi
done

"$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "$TORCH" safetensors numpy
"$VENV/bin/python" - <<'PY'
import torch, safetensors.torch  # noqa: F401
p = torch.zeros(3, requires_grad=True)
opt = torch.optim.Adadelta([p])
p.grad = torch.ones(3)
opt.step()
PY
touch "$STAMP"
