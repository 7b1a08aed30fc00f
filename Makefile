# acronis-autotask: `make dev` runs everything against the API sandboxes;
# `make test` runs every test. Both install what they need (bin/ is local).
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN           := $(CURDIR)/bin
DATA          := $(CURDIR)/.data
TEMPORAL      := $(BIN)/temporal
WORKFLOWCHECK := $(BIN)/workflowcheck
APP           := $(BIN)/acronis-autotask

TEMPORAL_CLI_VERSION  := v1.5.1
WORKFLOWCHECK_VERSION := v0.6.0
DEV_NAMESPACE         := acronis-autotask
HTTP_PORT             ?= 8080
UI_PORT               ?= 8233
N                     ?= 1000
FUZZTIME              ?= 3m
FUZZ_TARGETS          := FuzzWriteRoutes FuzzTemporalWriteRoutes
SEARCH_ATTRIBUTES     := AutotaskCompanyID AcronisTenantID CustomerState

export TEMPORAL_CLI := $(TEMPORAL)

.PHONY: help tools build dev dev-temporal dev-stop test test-short faults fuzz lint bench bench-console screenshots postgres clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

tools: $(TEMPORAL) $(WORKFLOWCHECK) ## build the pinned Temporal CLI and workflowcheck into bin/

$(TEMPORAL):
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (about 3 minutes, once)"
	GOBIN=$(BIN) go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(WORKFLOWCHECK):
	GOBIN=$(BIN) go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

build: ## build bin/acronis-autotask
	go build -o $(APP) ./cmd/acronis-autotask

postgres: ## make sure PostgreSQL answers on 127.0.0.1:5432
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
		pg_isready -h 127.0.0.1 -p 5432; }

dev-temporal: $(TEMPORAL) ## start the Temporal dev server (UI on :8233, or UI_PORT) unless one is running
	@mkdir -p $(DATA)
	@if (exec 3<>/dev/tcp/127.0.0.1/7233) 2>/dev/null; then echo "Temporal dev server already running on :7233"; else \
		echo "starting the Temporal dev server (log: .data/temporal.log)"; \
		nohup $(TEMPORAL) server start-dev --db-filename $(DATA)/temporal.db \
			--namespace $(DEV_NAMESPACE) --ui-port $(UI_PORT) \
			$(foreach a,$(SEARCH_ATTRIBUTES),--search-attribute $(a)=Keyword) \
			--ui-codec-endpoint http://localhost:$(HTTP_PORT)/codec \
			> $(DATA)/temporal.log 2>&1 & echo $$! > $(DATA)/temporal.pid; \
		for i in $$(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/7233) 2>/dev/null && break; sleep 1; done; \
	fi

dev: postgres dev-temporal build ## run everything against the sandboxes with demo data
	HTTP_ADDR=:$(HTTP_PORT) TEMPORAL_UI_URL=http://localhost:$(UI_PORT) $(APP) dev

dev-stop: ## stop the Temporal dev server started by make dev
	@if [ -f $(DATA)/temporal.pid ]; then kill $$(cat $(DATA)/temporal.pid) 2>/dev/null || true; rm -f $(DATA)/temporal.pid; fi

test: postgres $(TEMPORAL) ## run every test: unit, store, sandbox, workflow, replay, end-to-end and a short fuzz run
	go test -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s

fuzz: postgres $(TEMPORAL) ## fuzz every write route of the API for FUZZTIME each (default 3m; see RELIABILITY.md)
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzzing $$t for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -parallel 1 ./server/ || exit 1; \
	done

faults: postgres $(TEMPORAL) ## the fault-injection suite with many worker restarts (CI runs it small inside make test)
	FAULT_RESTARTS=$${FAULT_RESTARTS:-10} go test -count=1 -timeout 30m -run 'TestFaults' -v ./cmd/acronis-autotask/

bench: postgres $(TEMPORAL) build ## measure the whole system on N generated companies (make bench N=1000; see BENCHMARKS.md)
	@mkdir -p $(DATA)
	$(APP) bench --companies $(N) --json $(DATA)/bench-$(N).json $(BENCH_FLAGS)

bench-console: postgres ## server time of every web console page with 10,000 Autotask companies (see BENCHMARKS.md)
	go test -count=1 -run '^$$' -bench BenchmarkConsolePages -benchtime=$${BENCHTIME:-20x} ./server/

screenshots: postgres $(TEMPORAL) ## regenerate docs/screenshots/ with the console's real-browser test (needs chromium)
	CONSOLE_SCREENSHOTS=$(CURDIR)/docs/screenshots go test -count=1 -timeout 10m -run 'TestConsole_AdminConfiguresMapsAndHoldsInARealBrowser' ./cmd/acronis-autotask/

test-short: ## unit tests only (no PostgreSQL or Temporal)
	go test -short ./...

lint: $(WORKFLOWCHECK) ## gofmt, go vet and workflowcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(WORKFLOWCHECK) -config workflows/workflowcheck.config.yaml ./workflows/...

clean: ## remove build output and dev data
	rm -rf $(APP) $(DATA)
