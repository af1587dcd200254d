# The two commands of the README:
#   make run    install what is missing, build, pack the sample lessons, serve them
#   make test   install what is missing, build, run every test (also under ASan+UBSan, threads under TSan)
# Others: make build, make fuzz (60 s per target), make stress, make bench, make clean.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# The tests that drive threads: the library (scanner, verifier, watcher), the
# server (MHD workers, watchdog) and pack (one encoder thread per tier).
TSAN_TESTS ?= test_library|test_server|test_pack|test_kiosk_carry|test_admin
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
WERROR     ?= $(if $(SABAK_WERROR),$(SABAK_WERROR),OFF)
PORT       ?= 8080
LIBRARY    ?= library
CMAKE_FLAGS = -DSABAK_WERROR=$(WERROR)

.PHONY: all deps build build-asan build-tsan test test-unit test-asan test-browser run samples library \
        fuzz stress bench clean

all: build

deps:
	@tools/install-deps

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DSABAK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

build-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_FLAGS) -DSABAK_TSAN=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(TSAN_BUILD) -j$(JOBS)

test: build build-asan build-tsan
	@echo "== tests (release build) =="
	ctest --test-dir $(BUILD) --output-on-failure -j2
	@echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j2 -LE browser
	@echo "== threaded tests under ThreadSanitizer =="
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -j2 -R '$(TSAN_TESTS)'
	@echo "== symbol prefix check =="
	tools/check-symbols $(BUILD)
	@echo "== include cycles =="
	tools/check-include-cycles src

samples: build
	tools/make-sample-media lessons

# Pack every lesson whose bundle is missing or older than its sources (or
# than sabak-pack itself).
library: samples
	mkdir -p $(LIBRARY)
	@for d in lessons/*/; do \
	  [ -f "$$d/lesson.ini" ] || continue; \
	  id=$$(sed -n 's/^id *= *//p' "$$d/lesson.ini" | head -n1); \
	  ver=$$(sed -n 's/^version *= *//p' "$$d/lesson.ini" | head -n1); \
	  out="$(LIBRARY)/$$id-v$$ver.zip"; \
	  if [ -f "$$out" ] && [ -z "$$(find "$$d" $(BUILD)/sabak-pack -newer "$$out" -print -quit)" ]; then \
	    echo "$$out is up to date"; continue; \
	  fi; \
	  ./$(BUILD)/sabak pack "$$d" -o $(LIBRARY)/ || exit 1; \
	done

run: library
	./$(BUILD)/sabak serve --library $(LIBRARY) --listen 0.0.0.0:$(PORT)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DSABAK_FUZZ=ON -DBUILD_TESTING=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	tools/run-fuzzers $(FUZZ_BUILD) 60

stress: build build-asan
	tools/install-deps --bench
	tools/stress $(BUILD) $(ASAN_BUILD)

bench: build
	tools/install-deps --bench
	tools/bench/encode
	tools/bench/serve

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
