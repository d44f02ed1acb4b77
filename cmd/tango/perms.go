package main

import (
	"context"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// cliPerms names the permission each command needs, in the words of
// internal/authz (the API's route table uses the same ones). The CLI runs
// with the database itself: whoever can open it is the operator of the
// installation and holds every role, so for them the table says what a
// command touches. A command that acts as a person (--as) holds only that
// person's roles, checked by asPerson; TestEveryCommandNamesAPermission
// keeps the table whole.
var cliPerms = map[string]authz.Permission{
	"tango apps list":          authz.AppsRead,
	"tango apps release":       authz.OpsWrite,
	"tango audit checkpoint":   authz.AuditRead,
	"tango audit keygen":       authz.Public,
	"tango audit list":         authz.AuditRead,
	"tango audit verify":       authz.AuditRead,
	"tango cases list":         authz.CasesRead,
	"tango config check":       authz.Public,
	"tango demo":               authz.TokensAdmin,
	"tango evidence export":    authz.EvidenceRead,
	"tango evidence verify":    authz.Public,
	"tango findings list":      authz.FindingsRead,
	"tango hr approve":         authz.ImportsDecide,
	"tango hr import":          authz.ImportsWrite,
	"tango hr imports":         authz.ImportsRead,
	"tango hr reject":          authz.ImportsDecide,
	"tango ops list":           authz.OpsRead,
	"tango ops retry":          authz.OpsWrite,
	"tango policy plan":        authz.PolicyRead,
	"tango reconcile":          authz.OpsWrite,
	"tango requests approve":   authz.RequestsAct,
	"tango requests away":      authz.AwayAny,
	"tango requests create":    authz.RequestsAct,
	"tango requests list":      authz.RequestsRead,
	"tango requests reject":    authz.RequestsAct,
	"tango serve":              authz.TokensAdmin,
	"tango sessions list":      authz.TokensAdmin,
	"tango sessions revoke":    authz.TokensAdmin,
	"tango tasks complete":     authz.TasksRead,
	"tango tasks list":         authz.TasksRead,
	"tango tasks reassign":     authz.TasksRead,
	"tango token create":       authz.TokensAdmin,
	"tango token list":         authz.TokensAdmin,
	"tango token revoke":       authz.TokensAdmin,
	"tango users set-password": authz.TokensAdmin,
	"tango users totp disable": authz.TokensAdmin,
	"tango users totp enable":  authz.TokensAdmin,
	"tango version":            authz.Public,

	// Access reviews: Security starts and closes campaigns; a reviewer
	// decides their items as themself (--as, the record rule
	// authz.ActOnReviewItem).
	"tango reviews start":  authz.ReviewsManage,
	"tango reviews close":  authz.ReviewsManage,
	"tango reviews list":   authz.ReviewsRead,
	"tango reviews items":  authz.ReviewsRead,
	"tango reviews decide": authz.SignedIn,
}

// asPerson is the principal of --as: the person's roles now, refused
// when they have left or lack perm.
func asPerson(ctx context.Context, st authz.Directory, cfg *config.Config, p store.Person, perm authz.Permission, command string) error {
	res, err := authz.NewResolver(cfg, st, time.Now)
	if err != nil {
		return err
	}
	pr, err := res.ForPerson(ctx, p, nil, cliActor())
	if err != nil {
		return fmt.Errorf("--as %s: %w", p.EmployeeID, err)
	}
	return pr.Need(perm, command)
}
