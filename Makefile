# Thin wrapper over CMake presets. The two commands a newcomer needs: make run, make test.
JOBS ?= $(shell nproc)
EXAMPLE ?= examples/zimbra-single.toml

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

# The main job on the bundled example: the nftables firewall for a single-server Zimbra.
run: build
	./build/release/mailwarden firewall generate --policy $(EXAMPLE) --backend nft

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
