# The two commands of the README: `make run` and `make test`. Each installs what is
# missing (Debian packages named in scripts/deps-*.txt), builds, and does its job.
PRESET ?= $(if $(CI),ci,default)
JOBS ?= $(shell nproc)

# One thing at a time even under make -j: the builds use every core already, and
# two test runs at once would make the timing-sensitive tests race each other.
.NOTPARALLEL:

.PHONY: all deps test-deps build run test test-optimised test-asan bench bench-memory clean

all: build

deps:
	scripts/install-deps scripts/deps-build.txt

# The Debian sid root (python3.14, python3.15; outside git, made once: see README):
# scripts/make-sid-root makes it only when missing or made from another package list.
test-deps:
	scripts/install-deps scripts/deps-build.txt scripts/deps-test.txt
	scripts/install-test-readers
	scripts/make-sid-root

build: deps
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET) -j $(JOBS)

# The daemon in the foreground with the built-in defaults (127.0.0.1:8700), its
# state under build/state; Ctrl-C stops it (sessions are saved).
run: build
	@echo "pyprofd: try  curl -X POST localhost:8700/sessions -d '{\"pid\": PID, \"rate_hz\": 1000, \"duration_s\": 20}'"
	@echo "         then curl -o flame.svg localhost:8700/sessions/ID/flame.svg  (or open http://localhost:8700/)"
	./build/pyprofd serve --state-dir build/state

# Every test on the optimised build (what ships), then again on the ASan+UBSan
# build (less the optimised_only tests), where a memory or undefined-behaviour
# error anywhere fails the run.
test: test-optimised test-asan

test-optimised: test-deps build
	./build/tests/list_interpreters
	ctest --preset $(PRESET) -j $(JOBS)

test-asan: test-deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	./build-asan/tests/list_interpreters
	ctest --preset asan -j $(JOBS)

# The benches that compare builds run the new one (./build/pyprofd) in turns with a
# baseline: BASELINE=path, else pyprofd built at BASELINE_REV by bench/build-baseline
# (main before issue #16, cached outside git under PYPROFD_BENCH_CACHE).
BASELINE ?=
BASELINE_REV ?= 387e939
MINUTES ?= 60

bench: test-deps build
	./build/bench/bench_read_cost
	./build/bench/bench_sample_cost
	./build/bench/bench_sampling_rate
	./build/bench/bench_render_flame_graph ./build/pyprofd
	./build/bench/bench_profile_labels
	/usr/bin/python3.11 -B bench/daemon_load.py ./build/pyprofd .
	/usr/bin/python3.11 -B bench/flask_overhead.py ./build/pyprofd .
	baseline="$(BASELINE)"; [ -n "$$baseline" ] || baseline=$$(bench/build-baseline $(BASELINE_REV)) || exit 1; \
	/usr/bin/python3.11 -B bench/many_threads.py "$$baseline" ./build/pyprofd && \
	/usr/bin/python3.11 -B bench/seed_10khz.py "$$baseline" ./build/pyprofd .

# An hour's session at 1 kHz on the Flask app under load: the daemon's memory
# against its unique stacks at 10, 30 and 60 minutes (MINUTES=60 by default).
bench-memory: test-deps build
	/usr/bin/python3.11 -B bench/session_memory.py ./build/pyprofd . $(MINUTES)

clean:
	rm -rf build build-asan
