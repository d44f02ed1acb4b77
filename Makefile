# make test: installs and starts what the tests need, then runs every test.
export TANGO_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: test deps build bench fuzz

test: deps
	go vet ./...
	go test -count=1 -timeout 20m ./...

deps:
	bash scripts/test-deps.sh

build:
	go build -o bin/tango ./cmd/tango

bench: deps
	go test -run '^$$' -bench . -benchmem -timeout 60m ./bench/
