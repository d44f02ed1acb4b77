# make test: installs and starts what the tests need, then runs every test.
export TANGO_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: test deps build bench fuzz

test: deps
	go vet ./...
	go tool staticcheck ./...
	go test -count=1 -timeout 20m ./...

deps:
	bash scripts/test-deps.sh

build:
	go build -o bin/tango ./cmd/tango

bench: deps
	go test -run '^$$' -bench . -benchmem -timeout 60m ./bench/

# make fuzz: every fuzz target for FUZZTIME each; the corpus each keeps is in
# its package's testdata/fuzz (go test runs those inputs every time).
FUZZTIME ?= 30s
fuzz:
	for t in FuzzParseCSV FuzzParseJSON FuzzParseXLSX; do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./internal/table/ || exit 1; done
	for t in FuzzValidate FuzzEmail; do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./internal/hr/ || exit 1; done
	for t in FuzzPatch FuzzUserMapping FuzzCheckBody; do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./internal/scim/ || exit 1; done
	for t in FuzzParse FuzzParsePath; do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./internal/scim/filter/ || exit 1; done
	go test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./internal/evidence/
	go test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./internal/audit/checkpoint/
	go test -run '^$$' -fuzz '^FuzzParseActivity$$' -fuzztime $(FUZZTIME) ./internal/connector/ldap/
	for t in FuzzNext FuzzVerifyPassword; do go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./internal/signin/ || exit 1; done
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/duration/
	go test -run '^$$' -fuzz '^FuzzEscapeDN$$' -fuzztime $(FUZZTIME) ./internal/provision/
	go test -run '^$$' -fuzz '^FuzzEscapeChat$$' -fuzztime $(FUZZTIME) ./internal/notify/
