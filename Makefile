# Mirror — the two commands that matter: `make run` and `make test` (each installs what is missing).
SHELL := /bin/bash
JOBS ?= $(shell nproc)
export CCACHE_DIR ?= $(CURDIR)/.cache/ccache

.PHONY: fuzz all bootstrap build build-all build-asan run test test-asan bench fuzz format tidy clean

all: build

bootstrap:
	@scripts/bootstrap test

# The server and our tools (what `make run` and `make bench` need).
build:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target mirror h3load

# Everything, tests included.
build-all:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build-asan:
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

# Serves https://localhost:8443 (TCP: h1 + h2, UDP: h3) with the embedded defaults and a
# development certificate generated on first start.
run: bootstrap build
	./build/mirror $(ARGS)

# Unit tests (GoogleTest under CTest) and integration tests (the real binary, real clients).
test: bootstrap build-all
	cd build && ctest --output-on-failure -j $(JOBS) -L unit
	cd build && ctest --output-on-failure -L integration

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: bootstrap build-asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  MIRROR_ASAN=1 ctest --output-on-failure -L integration

bench: build
	@scripts/bootstrap bench
	bench/run.sh

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

tidy: build
	git ls-files 'src/*.cc' | xargs clang-tidy -p build --quiet

clean:
	rm -rf build build-debug build-asan build-fuzz

# Builds the libFuzzer targets (clang) and runs each for FUZZ_SECONDS (not part of `make test`).
FUZZ_SECONDS ?= 60
fuzz:
	@cmake --preset fuzz >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers
	@for f in build-fuzz/*_fuzz; do echo "== $$f"; $$f -max_total_time=$(FUZZ_SECONDS) || exit 1; done
