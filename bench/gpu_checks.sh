#!/usr/bin/env bash
# The speed issue's GPU checks in one run, for a session lent a GPU machine (the device
# tool's `run`, which starts in the repository root): the CUDA tests, then the speed
# benchmarks on the GPU.  Each log goes to $OUT (./gpu-checks when OUT is unset).
#
# The machine's python3 has torch, numpy, scipy, scikit-learn, pandas, pillow, pytest and
# hypothesis; gda_core also needs imbalanced-learn, pymoo and plotly (and their own needs
# that are missing there).  Download their wheels here first, into .whl/ (add /.whl/ to
# .git/info/exclude), as the device tool's README says, and name .whl in `carry`: this
# script installs whatever .whl/ holds before it starts.
#
#     bash bench/gpu_checks.sh            # on the GPU machine (its python3 holds torch)
#     GDA_CHECK_DEVICE=cpu PYTHON=.venv/bin/python bash bench/gpu_checks.sh   # here, CPU
#
# Exit status: 0 when every step passed, 1 when one failed (the others still run), 2 when
# the wheels could not be installed.
set -u -o pipefail

out="${OUT:-gpu-checks}"
dev="${GDA_CHECK_DEVICE:-cuda}"
py="${PYTHON:-python3}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1

if compgen -G ".whl/*.whl" > /dev/null; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 2
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi

"$py" -c "
import platform, torch
gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA GPU'
print(f'python {platform.python_version()}, torch {torch.__version__}, {gpu}')
" 2>&1 | tee "$out/env.txt"

status=0
step() {  # step NAME COMMAND...: run, keep the log, remember a failure
    local name="$1"
    shift
    echo "== $name: $*"
    "$@" 2>&1 | tee "$out/$name.txt" || status=1
}
step test_cuda "$py" -m pytest -q -p no:cacheprovider tests/test_cuda.py
step gan_speed "$py" bench/gan_speed.py --device "$dev" --roofline --read-every 10
step cnn_speed "$py" bench/cnn_speed.py --device "$dev"
step conv_forms "$py" bench/conv_forms.py --device "$dev"
exit "$status"
