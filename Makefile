# Pulse — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(VENV)/bin/pulse-stack
STACK_ENV := set -a; [ -f .local/stack.env ] && . .local/stack.env; set +a;

.PHONY: help setup lock stack-up stack-down stack-status demo test lint unit integration eval train bench reliability sample clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: ## create .venv, install pinned deps, fetch the KCL and OpenSearch jars (idempotent)
	@bash scripts/setup.sh

lock: ## re-pin requirements.lock (with hashes) from requirements.in, keeping existing pins (needs PyPI)
	@rm -rf .local/lock-venv && python3 -m venv .local/lock-venv && .local/lock-venv/bin/pip install -q pip-tools==7.6.2 \
	  && .local/lock-venv/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-header \
	     --annotation-style=line -o requirements.lock requirements.in \
	  && sed -i '/^--find-links/d' requirements.lock && echo "requirements.lock updated (hashes: make setup installs with --require-hashes)"

stack-up: setup ## start moto (h2c), OpenSearch and Prometheus; create stream, table, queue, templates
	@$(STACK) up --prometheus

stack-down: ## stop everything stack-up started
	@[ -x $(STACK) ] && $(STACK) down || true

stack-status: ## show each stack component (exit 1 if one is down)
	@$(STACK) status

sample: setup ## regenerate the bundled sample dataset deterministically
	@$(PY) -m pulse_producer.sample --out data/sample/posts.jsonl.gz

demo: setup ## start the stack, run all services, replay the sample, print a summary, serve the dashboard
	@$(VENV)/bin/pulse-demo

lint: setup ## ruff and the import-linter contracts (.importlinter)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/lint-imports --no-cache

unit: setup ## fast unit tests only
	@$(VENV)/bin/pytest -m "not integration" -q

integration: setup ## integration tests against the real local stack
	@$(VENV)/bin/pytest -m integration -q

test: setup ## ruff + the import-linter contracts + the whole suite (unit + integration); starts what it needs
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/lint-imports --no-cache
	@$(VENV)/bin/pytest -q --durations=15

# --- quality and speed (targets filled in by each area) ---
eval: setup ## score the enrichment on the labelled dev data (prints eval: lines)
	@$(VENV)/bin/pulse-eval

train: setup ## retrain the enrichment models from ../shared/datasets (reproducible)
	@$(VENV)/bin/pulse-train

bench: setup ## every benchmark; prints bench: lines and a ratio table under bench/results/
	@$(PY) bench/run_all.py

reliability: setup ## failure scenarios against the local stack; prints reliability: lines
	@$(PY) bench/reliability.py

clean: stack-down ## remove local state (keeps .venv and caches)
	@rm -rf .local/data .local/logs .local/run .local/stack.env

# --- deploy (Docker images, Terraform) ---
-include deploy/deploy.mk
-include deploy/opensearch-dashboards/osd.mk
