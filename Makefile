# Every target prepares what it needs: a new machine runs `make run` or `make test` directly.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# htmx and its SSE extension (live updates), copied from node_modules, never committed.
VENDOR := static/vendor/htmx.min.js static/vendor/hx-sse.min.js

.PHONY: run test setup migrate demo-data migrations bench bench-scale bench-jobs bench-workers fuzz clean

run: setup
	$(BIN)/yatri migrate
	$(BIN)/yatri demo-data
	$(BIN)/yatri serve --host 127.0.0.1 --port 8080

# Both cores; a test file stays on one worker (its module fixtures are set up once).
test: setup
	$(BIN)/pytest -n 2 --dist loadfile --durations=25

setup: $(STAMP) $(VENDOR)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENDOR) &: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx.org/dist/ext/hx-sse.min.js static/vendor/hx-sse.min.js
	touch $(VENDOR)

migrate: setup
	$(BIN)/yatri migrate

demo-data: migrate
	$(BIN)/yatri demo-data

# After changing models: write the next migration into migrations/.
migrations: setup
	PYTHONPATH=. $(BIN)/tortoise -c yatri.db.TORTOISE_ORM makemigrations

# wrk load on the main pages against a bare aiohttp app, SQLite and PostgreSQL, and page weight (see bench/run.py).
bench: setup
	$(BIN)/python bench/run.py

# The same at 1x, 10x and 100x the demo catalogue (bench/scale.py), with the goals across sizes.
bench-scale: setup
	$(BIN)/python bench/run.py --scales 1,10,100

# The fuzz suite's long profile: hundreds of hostile requests per route (see bench/fuzz.py).
# Mails per second through the job outbox to a local SMTP server (bench/jobs.py; DATABASE_URL
# for PostgreSQL, where JOB_WORKERS=2 runs two `yatri work` processes).
bench-jobs: setup
	$(BIN)/python bench/jobs.py --workers $(or $(JOB_WORKERS),1)

# The booking race with 1, 2 and 4 gunicorn workers on PostgreSQL (DATABASE_URL), 0 oversold.
bench-workers: setup
	$(BIN)/python bench/booking_race.py --workers 1,2,4 --requests 400 --seats 200

fuzz: setup
	$(BIN)/python bench/fuzz.py

clean:
	rm -rf $(VENV) node_modules static/vendor
