package hr

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// ProvisionFunc plans the access changes of applied events; they are
// queued in the same transaction as the events (provision.Engine.ForImport).
type ProvisionFunc func(ctx context.Context, persons []store.Person, events []store.Event, at time.Time) (*store.ProvisionBatch, error)

// Service is the one way HR data enters Tango, whoever sends it: a
// snapshot file imported from the command line or POST /api/v1/imports, a
// SCIM push, the approval or rejection of a held import. The wiring makes
// it once with what every path shares (the store, the config, the
// provisioning hook, the clock), so that the paths cannot drift apart;
// each call says who acts. Rejected feeds are stored as rejected imports
// (ImportFile), never with their rows.
type Service struct {
	st        Store
	cfg       *config.Config
	provision ProvisionFunc
	now       func() time.Time
}

// ServiceOptions are what every import shares.
type ServiceOptions struct {
	// Provision, when set, plans the access changes of what is applied
	// (imports, pushes, approvals) in their own transaction.
	Provision ProvisionFunc
	// Now is the clock; required.
	Now func() time.Time
}

// NewService makes the import service of a store and config. It panics
// when o.Now is nil (a programming error).
func NewService(st Store, cfg *config.Config, o ServiceOptions) *Service {
	if o.Now == nil {
		panic("hr.NewService: ServiceOptions.Now is nil")
	}
	return &Service{st: st, cfg: cfg, provision: o.Provision, now: o.Now}
}

// File is one snapshot file to import.
type File struct {
	Source *config.Source
	Name   string
	Data   []byte
	// Format, when set, is how to read the file ahead of the source's
	// format and the file's extension; FormatFrom says who set it.
	Format, FormatFrom string
	DryRun             bool
	Actor              string // "cli:<user>", "token:<name>", "system:demo"
}

func (s *Service) options(actor string, now func() time.Time) Options {
	if now == nil {
		now = s.now
	}
	return Options{Actor: actor, Now: now, Provision: s.provision}
}

// Import parses, maps, validates and applies one full snapshot file, as
// ImportFile.
func (s *Service) Import(ctx context.Context, f File) (Result, error) {
	opt := s.options(f.Actor, nil)
	opt.DryRun, opt.Format, opt.FormatFrom = f.DryRun, f.Format, f.FormatFrom
	return ImportFile(ctx, s.st, s.cfg, f.Source, f.Name, f.Data, opt)
}

// Decide approves or rejects an import a safeguard held, as Decide.
func (s *Service) Decide(ctx context.Context, id string, approve bool, actor string) (store.Import, error) {
	return Decide(ctx, s.st, id, approve, s.options(actor, nil))
}

// Push applies one SCIM change of a source pushed over SCIM at the time
// at (zero: now), as ApplyPush.
func (s *Service) Push(ctx context.Context, src *config.Source, ch PushChange, actor string, at time.Time) (PushResult, error) {
	var now func() time.Time
	if !at.IsZero() {
		now = func() time.Time { return at }
	}
	return ApplyPush(ctx, s.st, s.cfg, src, ch, s.options(actor, now))
}
