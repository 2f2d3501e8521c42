# CI, deploy and documentation checks (included by the root Makefile).
# Each script prints one line per check and ends with "N passed, M failed".
ACTIONLINT_VERSION ?= v1.7.7
ACTIONLINT ?= $(shell command -v actionlint || echo $$($(GO) env GOPATH)/bin/actionlint)

.PHONY: test-deploy test-docs test-smoke lint-ci

test-deploy: ## tests of scripts/deploy.sh (recording docker stand-in) and local-pg.sh's mirror lookup
	@scripts/test-deploy.sh
	@scripts/test-local-pg.sh

test-docs: ## mkdocs build --strict and a headless-Chromium check of the site
	@scripts/ci-docs.sh

test-smoke: ## make run in the background, then scripts/smoke-test.sh against it
	@scripts/ci-smoke.sh

lint-ci: ## actionlint on .github/workflows, shellcheck on every shell script
	@command -v shellcheck >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
	@test -x "$(ACTIONLINT)" || GOFLAGS=-buildvcs=false $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	$(ACTIONLINT)
	@files=$$(git ls-files --cached --others --exclude-standard | while read -r f; do \
		case $$f in *.sh) echo "$$f"; continue ;; esac; \
		[ -f "$$f" ] && head -n 1 "$$f" | grep -qE '^#!.*\b(ba)?sh\b' && echo "$$f"; \
	done | sort -u); \
	echo "shellcheck $$(echo $$files | wc -w) scripts"; \
	shellcheck --external-sources --source-path=SCRIPTDIR $$files
