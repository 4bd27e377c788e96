# GridLedger: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
PREFIX ?= /usr/local

.PHONY: all setup build test demo bench fuzz install lint format clean

all: build

## Install the Debian packages the build and tests need (only what is missing).
setup:
	@./scripts/setup

## Debug build of every target.
build: setup
	$(SWIFT) build

# libmodbus select()s on its descriptors and aborts the process on one numbered 1024 or more;
# libmosquitto pselect()s on its socket and cannot connect from one numbered that high.
# The suites that drive them in-process (Modbus client, server and emulator; the agent; MQTT)
# therefore run in a process of their own, apart from the gateway and super node suites,
# which keep hundreds of SQLite files and sockets open at once.
SELECT_SUITES = ModbusBridgeTests|MeterAgentTests|HomeAssistantMQTTTests
# The super node's suites (many on a PostgreSQL cluster of their own) and the replica system
# tests run in a process of their own: in one process with the rest, over 400 tests at once
# starved the cooperative pool on two cores and timed out waits that expect a prompt server.
STORE_SUITES = SuperNodeTests|ReplicaSystemTests

## Build everything (binaries included: some tests run them) and run every test; setup --test adds what only tests
## need (chromium), and the Python environment of the foreign-client tests (pysunspec2, pymodbus) is made first
## (scripts/python-test-env).
test:
	@./scripts/setup --test
	./scripts/python-test-env >/dev/null
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter '$(SELECT_SUITES)'
	$(SWIFT) test --skip-build --filter '$(STORE_SUITES)'
	$(SWIFT) test --skip-build --skip '$(SELECT_SUITES)|$(STORE_SUITES)'

## The whole system on loopback: a super node, two gateways, twelve emulated meters and their agents (scripts/demo).
demo: build
	./scripts/demo

## Release build and benchmarks; each figure is printed beside a reference from the same run.
bench: setup
	$(SWIFT) build -c release
	./.build/release/GridLedgerBench $(SUITES)

## A million validly signed hostile inputs through the gateway's and the super node's admission (release build); FUZZ_ARGS='--seed N' reproduces a run, '--target gateway|super-node' feeds one.
fuzz: setup
	$(SWIFT) build -c release --product GridLedgerFuzz
	./.build/release/GridLedgerFuzz $(FUZZ_ARGS)

## Release build, then scripts/install: binaries in $(PREFIX)/bin, systemd units, meter profiles and docs (make install PREFIX=/opt/gridledger; DESTDIR=… for packagers; docs/OPERATIONS.md).
install: setup
	$(SWIFT) build -c release
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' BUILD_DIR=.build/release ./scripts/install

## Check the formatting (.swift-format: swift-nio's settings, lines up to 120 characters).
lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Benchmarks Fuzz Package.swift

## Rewrite the sources in the house format.
format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests Benchmarks Fuzz Package.swift

clean:
	rm -rf .build
