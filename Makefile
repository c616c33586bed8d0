# GDA Workbench – `make run` starts the dashboard, `make test` runs the whole test suite.
# Both create the virtual environment (.venv) with the pinned requirements when missing.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-kernels test-fast lint bench clean-venv

# Lower CPU kernels than this machine's best: OpenBLAS's Sandybridge kernels (AVX, no FMA),
# numpy without its AVX2 / AVX-512 loops, torch without its vectorised kernels.
LOW_KERNELS := OPENBLAS_CORETYPE=Sandybridge ATEN_CPU_CAPABILITY=default \
	NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-ray.txt requirements-reference.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -rf $(VENV)/reference
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps \
		--target $(VENV)/reference -r requirements-reference.txt
	rm -rf $(VENV)/reference/tests $(VENV)/reference/bin
	touch $@

run: $(VENV)/.runtime  ## start the dashboard on http://localhost:$(PORT) (built-in digits data)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev  ## lint + every test (unit, contract, AppTest, CLI, browser when Chromium is there), then the numerical ones on lower CPU kernels
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-kernels

test-kernels: $(VENV)/.dev  ## the numerical tests again with lower CPU kernels forced (a result must not hang on the CPU)
	$(LOW_KERNELS) $(PY) -m pytest -q -m numerical -p no:cacheprovider tests

test-fast: $(VENV)/.dev  ## skip the slow and browser tests
	$(PY) -m pytest -m "not slow and not browser"

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

bench: $(VENV)/.runtime  ## print benchmark figures
	$(PY) bench/compare_default.py

clean-venv:
	rm -rf $(VENV)
