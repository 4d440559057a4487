.PHONY: deploy test setup lint bench clean-demo

deploy:  ## set everything up and deploy the environment `local-demo` into a local LXD container
	scripts/deploy-demo.sh

test:  ## set everything up and run ruff, mypy --strict and all tests (unit, integration, e2e)
	scripts/test.sh

setup:  ## only the set-up: venv, Pulumi CLI, LXD lab
	scripts/setup.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:  ## set up, then the benchmarks against the raw floor; JSON + PNG in bench/results/
	scripts/setup.sh
	.venv/bin/python -m bench

clean-demo:  ## destroy and purge the demo environment
	.venv/bin/torrust-deploy destroy local-demo && .venv/bin/torrust-deploy purge local-demo --force
