# Set-up is part of every target: a fresh clone needs only `make run` or `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi
PYTHON ?= python3
VENDOR := static/vendor

.PHONY: run serve test setup assets db bench bench-scale clean

# The app, the queue worker and (in development) a local mail catcher, stopped together by Ctrl-C.
# Another port: make run PORT=5001.
PORT ?= 5000

run: setup db
	$(PY) -m consult.devserver --host 127.0.0.1 --port $(PORT)

# A production instance: migrate, then gunicorn and the queue worker together (see consult/serve.py
# for the environment it needs; it refuses to start without it).
serve: setup
	CONSULT_ENV=production $(FLASK) db upgrade
	CONSULT_ENV=production $(PY) -m consult.serve

# Both cores by default: each pytest-xdist worker has its own database and live servers.
# loadgroup spreads tests like load, but keeps tests marked with one xdist_group on one worker.
PYTEST_WORKERS ?= 2

test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

setup: $(VENV)/.installed $(VENDOR)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip==25.3"
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# Third-party front-end assets come from the npm registry at set-up and are never committed.
# GOV.UK Frontend's typeface is for GOV.UK services only: its @font-face rules are
# removed and the stylesheet is pointed at Arial, so no font file is ever asked for.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/govuk $(VENDOR)/axe
	perl -0pe 's/\@font-face\{[^}]*\}//g; s/GDS Transport,arial/arial/g; s/font-family:GDS Transport/font-family:arial/g' \
		node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css > $(VENDOR)/govuk/govuk-frontend.min.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(VENDOR)/govuk/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/axe/
	touch $@

db: setup
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo load

bench: setup
	$(PY) -m bench
	$(PY) -m bench.exports

# Each page's cost at 1k, 10k and 100k comments, on SQLite and PostgreSQL.
bench-scale: setup
	$(PY) -m bench.scale

clean:
	rm -rf $(VENV) node_modules $(VENDOR) instance/consult.sqlite3*
