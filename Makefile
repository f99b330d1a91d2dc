# Every task of the course. `make` (or `make help`) lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# A system-wide Python 3.11 first: on a class server, students and the instructor run the .venv, and a
# Python inside someone's home folder (pyenv's, say) is not theirs to run.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11 /usr/local/bin/python3.11) $(shell command -v python3.11 2>/dev/null))
HOST   ?= 127.0.0.1
PORT   ?= 8888
START  := course/00_start_here.ipynb
# Notebooks `make execute` refreshes (override: make execute NBS=course/01_tensors.ipynb)
NBS    ?= course/[0-9]*.ipynb source/*/*.ipynb
ASSIGNMENTS = $(notdir $(wildcard source/[0-9][0-9]_*))
# pytest-xdist workers for `make test` (notebooks run one per worker)
JOBS   ?= 2

# The same numbers on every machine: no GPU, fixed hashing, quiet TensorFlow.
export CUDA_VISIBLE_DEVICES :=
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export JUPYTER_PLATFORM_DIRS := 1
# The environment's tools first (nbgrader runs `alembic` by name when it creates a gradebook).
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Students see nbgrader's Assignments list and Validate button, not the instructor's tools.
export JUPYTER_CONFIG_PATH := $(CURDIR)/.jupyter/student

# One server for a class (make hub-users, make hub): who teaches, the class's Unix group, the hub's address.
# The exchange is NBGRADER_EXCHANGE if set, else /usr/local/share/nbgrader/exchange (hub/exchange.py).
INSTRUCTOR ?= instructor
COURSE_GROUP ?= sbs-class
HUB_STATE ?= /srv/jupyterhub
HUB_BIND_URL ?= http://127.0.0.1:8000
# JupyterHub's proxy (npm). 4.6.3 runs on Debian 12's own Node 18; the 5.x line needs Node 20.
CHP_VERSION := 4.6.3

.PHONY: help install lab lab-instructor test release execute bench clean pins grade demo hub hub-users hub-proxy

help: ## list the tasks (default)
	@echo "Usage: make TASK   (a newcomer needs only 'make lab' and 'make test')"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

pins: ## print the exact pip pins of environment.yml (what `install` installs)
	@sed -n 's/^ *- *\([A-Za-z0-9_.-]*==[^ #]*\).*/\1/p' environment.yml

install: $(STAMP) ## build .venv from environment.yml's pins (runs only when they changed)

$(STAMP): environment.yml pyproject.toml
	@flock .install.lock $(MAKE) --no-print-directory build-venv  # one build at a time

build-venv:
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt environment.yml ] && [ $(STAMP) -nt pyproject.toml ]; then exit 0; fi; \
	if [ -z "$(PYTHON)" ]; then \
	  echo "make: this course needs Python 3.11, and python3.11 is not on your PATH." >&2; \
	  echo "      Install it (python.org, pyenv, or your package manager), or point to it:" >&2; \
	  echo "      make PYTHON=/path/to/python3.11 $(MAKECMDGOALS)" >&2; exit 1; fi; \
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "make: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'), the course needs 3.11." >&2; exit 1; }; \
	echo "Building $(VENV) from environment.yml (a few minutes, about 3 GB)..."; \
	set -x; $(PYTHON) -m venv --clear $(VENV); \
	$(PY) -m pip install --quiet --upgrade pip; \
	$(PY) -m pip install --quiet $$($(MAKE) -s --no-print-directory pins); \
	$(PY) -m pip install --quiet --no-deps -e .; \
	{ set +x; } 2>/dev/null; touch $(STAMP); echo "Installed. Next: make lab (open the course) or make test."

# $(call serve,START_PAGE,WHO): JupyterLab on loopback, on START_PAGE, with a fresh token.
define serve
	@$(PY) -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("$(HOST)", $(PORT))) == 0)' || { \
	  echo "make: port $(PORT) on $(HOST) is busy (another Jupyter?). Use another one: make $@ PORT=8899" >&2; exit 1; }
	@token=$$($(PY) -c 'import secrets; print(secrets.token_hex(16))'); \
	echo ""; echo "  The $(2) opens at  http://$(HOST):$(PORT)/$(1)?token=$$token"; \
	echo "  Stop it with Ctrl+C."; echo ""; \
	exec $(VENV)/bin/jupyter lab --ServerApp.ip=$(HOST) --ServerApp.port=$(PORT) \
	  --ServerApp.port_retries=0 --ServerApp.root_dir="$(CURDIR)" --IdentityProvider.token=$$token \
	  --LabApp.default_url=/$(1) $(if $(NO_BROWSER),--no-browser) \
	  $(if $(filter 0,$(shell id -u)),--ServerApp.allow_root=True) $(LAB_ARGS)
endef

lab: $(STAMP) ## open the course in JupyterLab, as a student (installs first if needed)
	$(call serve,lab/tree/$(START),course)

lab-instructor: export JUPYTER_CONFIG_PATH :=
lab-instructor: $(STAMP) ## JupyterLab with nbgrader's tools: Nbgrader menu -> Formgrader
	@$(PY) hub/exchange.py  # nbgrader's exchange, outside the course directory (see hub/exchange.py)
	$(call serve,lab/tree/README.md,instructors' JupyterLab (formgrader: Nbgrader menu -> Formgrader))

hub-proxy: ## install JupyterHub's proxy, configurable-http-proxy (npm, globally)
	@if [ "$$(configurable-http-proxy --version 2>/dev/null)" != "$(CHP_VERSION)" ]; then \
	  command -v npm >/dev/null || { echo "make: JupyterHub's proxy needs Node.js and npm (apt-get install nodejs npm)" >&2; exit 1; }; \
	  echo "Installing configurable-http-proxy $(CHP_VERSION) with npm..."; \
	  npm install --global --no-fund --no-audit --loglevel=error configurable-http-proxy@$(CHP_VERSION); fi

hub-users: $(STAMP) ## as root: Unix users for INSTRUCTOR=name and a ROSTER=roster.csv of students; the exchange; the gradebook
	@test -n "$(ROSTER)" || { echo "make hub-users: name the roster, e.g. make hub-users ROSTER=roster.csv" >&2; exit 1; }
	COURSE_INSTRUCTOR=$(INSTRUCTOR) COURSE_GROUP=$(COURSE_GROUP) HUB_STATE=$(HUB_STATE) \
	  $(PY) -m hub.classroom --roster $(ROSTER) $(if $(HOME_BASE),--home-base $(HOME_BASE))

hub: $(STAMP) hub-proxy ## as root: JupyterHub for the class (HUB_BIND_URL=http://127.0.0.1:8000); see README
	@test "$$(id -u)" = 0 || { echo "make hub: JupyterHub starts each user's server as that user: run it as root" >&2; exit 1; }
	COURSE_INSTRUCTOR=$(INSTRUCTOR) COURSE_GROUP=$(COURSE_GROUP) HUB_STATE=$(HUB_STATE) HUB_BIND_URL=$(HUB_BIND_URL) \
	  exec $(VENV)/bin/jupyterhub --config hub/jupyterhub_config.py $(HUB_ARGS)

test: $(STAMP) ## run every test: notebooks (nbval), nbgrader, release, style, helpers, lab server
	$(PY) -m pytest -n $(JOBS) --dist loadfile \
	  --nbval --nbval-current-env \
	  course source autograder/tests $(PYTEST_ARGS)

release: $(STAMP) ## regenerate release/ (student versions) from source/ with nbgrader
	@for a in $(ASSIGNMENTS); do \
	  $(VENV)/bin/nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; done
	@echo "release/ regenerated for: $(ASSIGNMENTS)"

execute: $(STAMP) ## re-run notebooks and store their outputs as nbval's reference (NBS=...)
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 $(NBS)

grade: $(STAMP) ## grade a class: make grade A=01_tensors [SUBMISSIONS=dir|lms.zip] [WORKERS=n] [SCHEDULER=tcp://..] [DB=url]
	@test -n "$(A)" || { echo "make grade: name the assignment, e.g. make grade A=01_tensors" >&2; exit 1; }
	$(PY) -m autograder grade $(A) --submissions $(or $(SUBMISSIONS),autograder/submitted) \
	  --out $(or $(OUT),autograder/graded/$(A)) $(if $(WORKERS),--workers $(WORKERS)) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(if $(DB),--db $(DB))

demo: $(STAMP) ## grade the shipped example submissions (correct, partial, wrong, broken) and print the table
	$(PY) -m autograder grade 01_tensors --submissions autograder/examples/01_tensors --out autograder/graded/demo
	@echo; $(PY) -c 'import csv; [print("\t".join(row[:6])) for row in csv.reader(open("autograder/graded/demo/grades.csv"))]' \
	  | column -s "$$(printf '\t')" -t  # the first six columns: student_id .. reason

bench: $(STAMP) ## notebooks' time and memory, lab server memory, grading throughput vs nbgrader; into README.md
	$(PY) -m bench.notebook_bench --readme README.md $(BENCH_ARGS)
	$(PY) -m bench.grading_bench --readme README.md $(GRADING_BENCH_ARGS)

clean: ## remove the .venv and everything generated at run time (keeps release/)
	rm -rf $(VENV) .pytest_cache autograder/gradebook.db gradebook.db autograder/submitted \
	  autograder/autograded autograder/feedback autograder/graded course/scratch bench-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} + -o -name '*.egg-info' -prune -exec rm -rf {} +
