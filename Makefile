# The two commands of the README:
#   make run    install what is missing, build, pack the sample lessons, serve them
#   make test   install what is missing, build, run every test (also under ASan+UBSan, threads under TSan)
# Others: make build, make install (PREFIX=/usr/local), make pot, make fuzz (60 s per target),
# make stress, make bench, make clean,
#   make deb (the Debian packages sabak and sabak-pack into ./deb/, packaging/debian).

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

.PHONY: all deps build build-programs build-asan build-tsan test test-unit test-asan test-browser run samples library \
        fuzz stress bench clean install pot deb

all: build

deps:
	@tools/install-deps

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# Only the programs and their translations, not the tests: what make run needs.
build-programs: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target sabak-cli sabak-pack sabak-translations

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

samples:
	tools/make-sample-media lessons

# Make each sample recording and pack every lesson whose bundle is missing
# or older than its sources (or than sabak-pack itself). A lesson is packed
# while the next one's recording is made (one pack at a time: sabak-pack
# already keeps both cores busy), which is most of the first `make run`.
library: build-programs
	mkdir -p $(LIBRARY)
	@log=$(LIBRARY)/.pack.log; pack=; \
	finish() { [ -z "$$pack" ] && return 0; wait $$pack; rc=$$?; cat "$$log"; rm -f "$$log"; pack=; return $$rc; }; \
	for d in lessons/*/; do \
	  [ -f "$$d/lesson.ini" ] || continue; \
	  tools/make-sample-media "$$d" || exit 1; \
	  finish || exit 1; \
	  id=$$(sed -n 's/^id *= *//p' "$$d/lesson.ini" | head -n1); \
	  ver=$$(sed -n 's/^version *= *//p' "$$d/lesson.ini" | head -n1); \
	  out="$(LIBRARY)/$$id-v$$ver.zip"; \
	  if [ -f "$$out" ] && [ -z "$$(find "$$d" $(BUILD)/sabak-pack -newer "$$out" -print -quit)" ]; then \
	    echo "$$out is up to date"; continue; \
	  fi; \
	  echo "packing $$d (while the next recording is made)"; \
	  ./$(BUILD)/sabak pack "$$d" -o $(LIBRARY)/ > "$$log" 2>&1 & pack=$$!; \
	done; finish

run: library
	./$(BUILD)/sabak serve --library $(LIBRARY) --listen 0.0.0.0:$(PORT)

# Install sabak, its packing helper and the translations (cmake --install),
# by default under /usr/local: bin/sabak, lib/sabak/sabak-pack, share/locale.
PREFIX ?= /usr/local
install: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
	  -DSABAK_LIBEXECDIR=$(PREFIX)/lib/sabak -DSABAK_LOCALEDIR=$(PREFIX)/share/locale >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target sabak-cli sabak-pack sabak-translations
	cmake --install $(BUILD)

# Remake po/sabak.pot from the sources and merge it into po/*.po
# (translators then fill in the new and fuzzy messages).
pot:
	xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ --keyword=dngettext:2,3 \
	  --add-comments=TRANSLATORS --package-name=sabak --msgid-bugs-address=https://example.invalid \
	  -o po/sabak.pot src/cli/*.c src/core/*.c src/bundle/*.c src/carry/*.c src/lesson/*.c src/media/pack*.c
	for po in po/*.po; do msgmerge -q --update --backup=none --no-fuzzy-matching $$po po/sabak.pot; done

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

# The Debian packages, built the Debian way from a clean copy of the tree
# (packaging/build-deb: packaging/debian -> debian/, dpkg-buildpackage -us -uc -b).
# make test builds and checks them too (tests/integration/test_package_deb.py).
deb: deps
	SABAK_DEB_JOBS=$(JOBS) packaging/build-deb deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
