# The two commands: `make run` and `make test`. Everything else is a building block.
# Each target installs what is missing first (scripts/install-deps.sh is idempotent and quick when
# nothing is missing).

SHELL := /bin/bash
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:4566
DATA ?= ./var
REGION ?= us-east-1

.PHONY: all deps build run test test-unit test-fuzz-short test-sanitizers test-asan test-tsan test-fuzz bench format tidy clean

all: build

deps:
	@bash scripts/install-deps.sh

# Release build (RelWithDebInfo); leaves the server at build/klaxon.
build: deps
	@cmake --preset release >/dev/null
	@cmake --build build/release -j $(JOBS)
	@cp -f build/release/src/cli/klaxon build/klaxon

run: build
	@mkdir -p $(DATA)
	@echo "klaxon: starting on http://$(LISTEN) (data in $(DATA), Region $(REGION))"
	@echo "Point your clients at it:"
	@echo "  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$(REGION)"
	@echo "  aws --endpoint-url http://$(LISTEN) ssm-incidents list-response-plans"
	@exec build/klaxon serve --listen $(LISTEN) --data $(DATA) --region $(REGION)

# The whole suite: unit, integration, real-client and crash tests on the release build, then a
# short run of every fuzzer (libFuzzer + ASan + UBSan, built in the ASan tree: only the fuzzers
# and what they link). The full sanitizer runs of every unit test (ASan+UBSan, and TSan) are
# `make test-sanitizers`: each is a full clang build of the tree, which on CI's 2 cores would
# put the suite past its 30-minute budget when the compiler cache is cold.
test: build test-unit test-fuzz-short
	@echo "make test: all suites passed"

FUZZ_SECONDS ?= 10
test-fuzz-short: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j $(JOBS) --target fuzzers
	@KLAXON_FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir build/asan --output-on-failure -L fuzz -j $(JOBS)

test-sanitizers: test-asan test-tsan

test-unit: build
	@ctest --test-dir build/release --output-on-failure -j $(JOBS) --timeout 600

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@ctest --test-dir build/asan --output-on-failure -j $(JOBS) --timeout 900 -LE "slow|clients|fuzz"
	@ctest --test-dir build/asan --output-on-failure -L fuzz -j $(JOBS)

test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build build/tsan -j $(JOBS)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
	  ctest --test-dir build/tsan --output-on-failure -j $(JOBS) --timeout 900 -LE "slow|clients"

# The fuzzers are built in the ASan tree (libFuzzer + ASan + UBSan); this runs only them.
test-fuzz: deps
	@cmake --preset asan >/dev/null
	@cmake --build build/asan -j $(JOBS)
	@ctest --test-dir build/asan --output-on-failure -L fuzz -j $(JOBS)

bench: build
	@bash bench/run_all.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

tidy: build
	@git ls-files 'src/*.cc' | xargs clang-tidy -p build/release --quiet

clean:
	@rm -rf build
