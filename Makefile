# grse — build, test and demo entry points.
#
# On a fresh Debian 12 machine, as root, the two commands are:
#   make test    # setup, then every test stage; ends with "tests: N passed, M failed"
#   make demo    # setup, release install, then a scripted scenario on a throw-away cluster
#
# Developer targets (one stage each): lint, unit, pgtest, regress, upgrade, concurrency, isolation,
# restore, replication, battery, scaleout;
# make stress runs the long stress and crash test; make http, make browser (grse-http's stages);
# make dashboard serves the pages over the demo's regions; make bench-http is the HTTP load check.
#   make install PROFILE=debug   # faster install without --release
#   make regress ACCEPT=1        # write actual pg_regress output to tests/pg_regress/expected/
#   KEEP=1 make concurrency      # keep the temporary cluster/logs for inspection

SHELL      := /bin/bash
PG_CONFIG  ?= /usr/lib/postgresql/15/bin/pg_config
PROFILE    ?= release
export PATH := $(HOME)/.cargo/bin:$(PATH)

ifeq ($(PROFILE),release)
RELEASE_FLAG := --release
else ifeq ($(PROFILE),debug)
RELEASE_FLAG :=
else
$(error PROFILE must be release or debug, not '$(PROFILE)')
endif

.PHONY: all setup install demo test lint unit pgtest regress upgrade concurrency isolation stress bench http browser restore replication battery scaleout dashboard bench-http bench-scaleout help

all: help

help:
	@sed -n '2,13p' Makefile | sed 's/^# \{0,1\}//'

## Machine setup: Debian packages, cargo-pgrx 0.18.0, cargo pgrx init (idempotent).
setup:
	bash scripts/setup.sh

## Build and install the extension into the system PostgreSQL 15.
install: setup
	cargo pgrx install $(RELEASE_FLAG) --pg-config $(PG_CONFIG)

## Scenario on a throw-away cluster (scripts/demo.sql).
demo: setup install
	bash scripts/demo.sh

## All test stages in order: lint, unit, pgtest, regress, upgrade, concurrency, isolation, stress (short),
## http, browser, restore, replication, battery.
test: setup
	bash scripts/run-tests.sh

## Single stages.
lint:
	bash scripts/run-tests.sh lint

unit:
	bash scripts/run-tests.sh unit

pgtest: setup
	bash scripts/run-tests.sh pgtest

regress: setup
	bash scripts/run-tests.sh regress

upgrade: setup
	bash scripts/run-tests.sh upgrade

concurrency: setup
	bash scripts/run-tests.sh concurrency

isolation: setup
	bash scripts/run-tests.sh isolation

http: setup
	bash scripts/run-tests.sh http

browser: setup
	bash scripts/run-tests.sh browser

restore: setup
	bash scripts/run-tests.sh restore

replication: setup
	bash scripts/run-tests.sh replication

battery: setup
	bash scripts/run-tests.sh battery

## grse on two nodes behind a PL/Proxy router (three throw-away clusters)
scaleout: setup
	bash scripts/run-tests.sh scaleout

## The dashboard on the demo's regions: builds, starts a throw-away cluster and grse-http,
## prints the URL and a token to sign in with (Ctrl-C stops everything).
dashboard: setup install
	bash scripts/dashboard.sh

## HTTP load check: GET /api/regions/health over 100 regions at 32 connections vs pgbench
bench-http: setup
	bash bench/http/run.sh

## The cost of the scale-out router's hop per call (router vs a node directly, as a ratio)
bench-scaleout: setup
	bash bench/scaleout/run.sh

## The long stress run: 64 connections for minutes, kill -9 of the server, invariants
## (a short form runs inside `make test`).
stress: setup install
	bash tests/stress/run.sh

## Benchmarks (release build, fsync on): writes bench/RESULTS.md
bench: setup
	bash bench/run.sh
