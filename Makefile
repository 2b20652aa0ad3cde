# Thin wrapper: every real decision lives in CMakeLists.txt and CMakePresets.json.
PRESET ?= release
PACKAGES := g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev doctest-dev chromium \
            libgoogle-perftools-dev emscripten libhiredis-dev redis-server libssl-dev openssl \
            dpkg-dev file
# The browser test drives Debian's Chromium with playwright-core from npm (no browser download).
PLAYWRIGHT := build/npm/node_modules/playwright-core

.PHONY: deps build test demo clean

# Installs only the Debian packages that are missing; does nothing when all are present.
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	@[ -d $(PLAYWRIGHT) ] || npm install --prefix build/npm --no-audit --no-fund --loglevel=error playwright-core@1

build: deps
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET)

test: build
	ctest --preset $(PRESET)

# Five kv nodes on loopback with a live status table (Ctrl-C stops it).
demo: build
	./build/$(PRESET)/apps/conflux-demo

clean:
	rm -rf build
