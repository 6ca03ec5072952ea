# Thin wrapper over CMake presets. The two commands a newcomer needs: make run, make test.
JOBS ?= $(shell nproc)
SNAPSHOT ?= examples/snapshots/zimbra-default

.PHONY: all deps build run test bench fuzz format clean

all: build

deps:
	@./scripts/install-deps

build/release/build.ninja: | deps
	cmake --preset release >/dev/null

build/asan/build.ninja: | deps
	cmake --preset asan >/dev/null

build: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS) --target mailwarden

# The main job on the bundled example: the audit of an unhardened Zimbra 10.1 server's snapshot.
# Its exit code says how bad the worst finding is (1-3); only 4 (the audit could not run) fails.
run: build
	./build/release/mailwarden audit --snapshot $(SNAPSHOT) || [ $$? -lt 4 ]
	./build/release/mailwarden audit --snapshot $(SNAPSHOT) --format html \
	  >build/audit-report.html || [ $$? -lt 4 ]
	@echo "HTML report: $(CURDIR)/build/audit-report.html"

# Unit, golden, fuzz-corpus replay and e2e tests in one ASan+UBSan build.
test: deps build/asan/build.ninja
	cmake --build build/asan -j $(JOBS)
	cd build/asan && ctest --output-on-failure -j $(JOBS)

bench: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS)
	./bench/run

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	./fuzz/run build/fuzz

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
