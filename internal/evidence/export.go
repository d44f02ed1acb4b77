package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/audit/checkpoint"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// ExportStore is what an export records itself in.
type ExportStore interface {
	store.Transactor
	audit.Reader
}

// Export writes bundle b into dir as an export: first an audit entry
// evidence.exported naming the actor and what was asked (b.Params; the
// subject is the campaign when there is one); then, when
// audit.checkpoint is configured, a checkpoint signed now (covering that
// entry) goes into the manifest, so the bundle proves the state of the
// trail it came from. `tango evidence export` and the web workspace's
// download both use it.
func Export(ctx context.Context, st ExportStore, cfg *config.Config, b Bundle, actor, dir string, now func() time.Time) (Manifest, error) {
	at := now()
	subject := ""
	if id := b.Params["campaign"]; id != "" {
		subject = "campaign:" + id
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(audit.New(at, actor, "evidence.exported", "", "", subject, nil, b.Params))
	}); err != nil {
		return Manifest{}, err
	}
	cpr, err := checkpoint.FromConfig(st, cfg, now)
	if err != nil {
		return Manifest{}, err
	}
	if cpr != nil {
		c, err := cpr.Checkpoint(ctx)
		if err != nil {
			return Manifest{}, fmt.Errorf("signing the audit checkpoint for the bundle: %w", err)
		}
		if b.Checkpoint, err = json.Marshal(c); err != nil {
			return Manifest{}, err
		}
	}
	return Write(dir, b, at)
}
