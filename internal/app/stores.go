package app

import (
	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/connector/manual"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/scheduler"
	"github.com/tango-iga/tango/internal/scim"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlstore"
	"github.com/tango-iga/tango/internal/web"
	"github.com/tango-iga/tango/internal/workflow"
)

// Each part declares the store it needs; the SQL store satisfies every
// one of them, and all of store.Store, which the wiring hands out.
var (
	_ store.Store      = (*sqlstore.DB)(nil)
	_ api.Store        = (*sqlstore.DB)(nil)
	_ web.Store        = (*sqlstore.DB)(nil)
	_ auth.Store       = (*sqlstore.DB)(nil)
	_ hr.Store         = (*sqlstore.DB)(nil)
	_ manual.TaskStore = (*sqlstore.DB)(nil)
	_ notify.Directory = (*sqlstore.DB)(nil)
	_ notify.Outbox    = (*sqlstore.DB)(nil)
	_ provision.Store  = (*sqlstore.DB)(nil)
	_ request.Store    = (*sqlstore.DB)(nil)
	_ scheduler.Store  = (*sqlstore.DB)(nil)
	_ scim.Store       = (*sqlstore.DB)(nil)
	_ workflow.Store   = (*sqlstore.DB)(nil)
)
