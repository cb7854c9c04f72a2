# Every target sets up its own virtual environment when missing (or when pyproject.toml changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Two shared cores: parallelism belongs to the engine, not to BLAS.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: demo test setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/staffcast plan --history examples/data/history.csv \
		--calendar examples/data/calendar.csv --config configs/example.yaml \
		--out-dir out/demo

test: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) || echo "note: chromium could not be installed; browser tests will be skipped"
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out .pytest_cache
