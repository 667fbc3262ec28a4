# reehub: make run starts the server on localhost:5000; make test runs every test.
SHELL := /bin/bash
export CGO_ENABLED := 0
GOTAGS := remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper
export GOFLAGS := -tags=$(GOTAGS)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# The data directory: DATA_DIR=..., else REEHUB_DATA_DIR (reehub's own variable), else ./data.
DATA_DIR := $(or $(DATA_DIR),$(REEHUB_DATA_DIR),./data)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The npm packages of tools/contract/package-lock.json (and a Node.js that runs them).
CONTRACT_TOOLS := tools/contract/node_modules/.reehub-installed
CONTRACT_ENV := PATH="$(CURDIR)/tools/contract/node_modules/.bin:$$PATH" REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

IMAGE ?= localhost/reehub

.PHONY: run build image gen gen-check sdk setup base-images test test-disks lint contract tools bench bench-fossology bench-analysis bench-repro clean

## build: compile bin/reehub
build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/reehub ./cmd/reehub

## image: build reehub's own OCI image with the rootful Podman (IMAGE:VERSION and IMAGE:latest, default localhost/reehub) FROM the catalogue's debian_bookworm base (built first if absent); docs/deploy.md runs it
image: build
	$(SUDO) podman image exists localhost/debian_bookworm:latest || ./bin/reehub base-images --data-dir $(DATA_DIR)
	rm -rf bin/image && mkdir -p bin/image && cp bin/reehub bin/image/reehub
	$(SUDO) podman build --pull=never -f deploy/Containerfile -t $(IMAGE):$(VERSION) -t $(IMAGE):latest bin/image

## gen: bundle api/*.yaml into openapi.yaml (with the naming rules of docs/contract.md), then regenerate gen/ (Go) and sdk/typescript/src/gen (TypeScript)
gen: $(CONTRACT_TOOLS)
	go run ./api/bundle -o openapi.yaml api
	go generate ./gen/...
	cd sdk/typescript && $(CONTRACT_ENV) openapi-ts -f openapi-ts.config.mjs >/dev/null

## gen-check: fail if bundling api/ or generating gen/ and the TypeScript SDK changes anything
gen-check: gen
	git diff --exit-code -- openapi.yaml gen/ sdk/typescript/src/gen
	@untracked=$$(git ls-files --others --exclude-standard -- gen/ sdk/typescript/src/gen); \
	  if [ -n "$$untracked" ]; then echo "generated but not committed:"; echo "$$untracked"; exit 1; fi

## sdk: compile the TypeScript SDK (sdk/typescript/dist: ESM and type declarations)
sdk: $(CONTRACT_TOOLS)
	cd sdk/typescript && $(CONTRACT_ENV) tsc -p tsconfig.json

## setup: install and start Podman (runc, containers.conf, API service)
setup:
	$(SUDO) bash scripts/setup-host.sh

## base-images: build the catalogue's base images if absent
base-images: setup build
	./bin/reehub base-images --data-dir $(DATA_DIR)

## run: install what is missing, build the base images once, serve on localhost:5000
run: setup build
	@bash scripts/dev-credentials.sh $(DATA_DIR)
	REEHUB_ADMIN_PASSWORD="$${REEHUB_ADMIN_PASSWORD:-$$(cat $(DATA_DIR)/admin-password)}" ./bin/reehub serve --data-dir $(DATA_DIR)

## test: every test, on SQLite and on Postgres, with real Podman (installs the test packages of scripts/packages.txt)
test: setup $(CONTRACT_TOOLS) bin/weed
	$(SUDO) bash scripts/setup-packages.sh test
	bash scripts/setup-postgres.sh
	go build ./... && go vet ./...
	set -o pipefail; REEHUB_TEST_REQUIRE_S3=1 go test -count=1 -timeout 45m -p 2 ./... 2>&1 | tee /tmp/reehub-test-sqlite.log
	set -o pipefail; REEHUB_TEST_REQUIRE_S3=1 REEHUB_TEST_DATABASE_URL="$$(cat /tmp/reehub-postgres-url)" go test -count=1 -timeout 45m -p 1 ./store/... ./service/job/ ./tests/... 2>&1 | tee /tmp/reehub-test-postgres.log

## bin/weed: SeaweedFS, the S3-compatible server the blob store and multi-instance tests run against (a long build, once; cached in bin/)
bin/weed: scripts/build-weed.sh
	bash scripts/build-weed.sh

## test-disks: the Studio family's bootable builds through the API (oem and iso built, downloaded and booted in qemu; 20+ minutes)
test-disks: setup
	$(SUDO) bash scripts/setup-packages.sh test
	REEHUB_E2E_DISKS=1 go test -count=1 -timeout 60m -run 'TestStudioDisks' ./tests/

## lint: gofmt, vet, the import-direction test, golangci-lint (staticcheck, depguard import rules, unused, ineffassign)
lint: bin/golangci-lint
	@bad=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	  if [ -n "$$bad" ]; then echo "gofmt -w needed on:"; echo "$$bad"; exit 1; fi
	go vet ./...
	go test -count=1 -run 'TestImportDirection|TestRules' ./tests/arch/
	bin/golangci-lint run ./...

## contract: lint openapi.yaml (Spectral: .spectral.yaml, Redocly: redocly.yaml; any finding fails) and check it against the newest api/released/ contract (oasdiff; docs/contract.md)
contract: $(CONTRACT_TOOLS) bin/oasdiff
	$(CONTRACT_ENV) spectral lint --fail-severity=warn openapi.yaml
	$(CONTRACT_ENV) redocly lint openapi.yaml
	go run ./api/compat -oasdiff bin/oasdiff -released api/released openapi.yaml
	bash tools/contract/selftest.sh
	REEHUB_OASDIFF="$(CURDIR)/bin/oasdiff" go test -count=1 ./api/compat/

## tools: build the lint tools pinned in tools/go.mod into bin/, install the contract linters of tools/contract
tools: bin/golangci-lint bin/staticcheck bin/oasdiff $(CONTRACT_TOOLS)

$(CONTRACT_TOOLS): tools/contract/package-lock.json scripts/setup-contract-tools.sh
	bash scripts/setup-contract-tools.sh

bin/golangci-lint: tools/go.mod tools/go.sum
	cd tools && go build -buildvcs=false -o ../$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

bin/staticcheck: tools/go.mod tools/go.sum
	cd tools && go build -buildvcs=false -o ../$@ honnef.co/go/tools/cmd/staticcheck

bin/oasdiff: tools/go.mod tools/go.sum
	cd tools && go build -buildvcs=false -o ../$@ github.com/oasdiff/oasdiff

## bench: recording vs plain podman build, replay vs recording, upload RSS, status throughput
bench: setup build
	bash bench/run.sh

## bench-fossology: a Debian orig tarball through the FOSSology API vs the analysis engine alone and licensecheck
bench-fossology: build
	bash bench/fossology/run.sh

## bench-analysis: license/copyright accuracy and speed vs licensecheck (SET=python_3_11, the default, or SET=eight; PACKAGES="a b" for exactly those), SBOM vs syft
bench-analysis: base-images
	bash bench/sbom/run.sh
	PACKAGES="$(PACKAGES)" SET="$(SET)" bash bench/analysis/run.sh

## bench-repro: record every project of bench/repro/projects, replay each on this Podman and on an empty second one, and report how many rebuild identically (ONLY=regexp for some)
bench-repro: setup build
	bash bench/repro/run.sh $${ONLY:+-only "$$ONLY"}

clean:
	rm -rf bin
