package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/tango-iga/tango/internal/store"
)

// SCIMMigrationBackfill checks migration 00010 on a backend: SCIM
// resources stored before it are numbered in creation order, and group
// membership is filled from the stored groups. p migrates db (fresh);
// st reads it; rebind turns '?' into the backend's placeholders.
func SCIMMigrationBackfill(t *testing.T, db *sql.DB, p *goose.Provider, st store.Store, rebind func(string) string) {
	ctx := context.Background()
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	ins := rebind(`INSERT INTO scim_resources (id, type, source, employee_id, name_key, external_id, version, created_at, updated_at, doc) VALUES (?,?,?,?,?,?,?,?,?,?)`)
	for i, id := range []string{"c", "a", "b"} { // created in the order b, c, a
		created := []int64{200, 300, 100}[i]
		if _, err := db.ExecContext(ctx, ins, id, "User", "s", "", id, "", 1, created, created, `{"userName":"`+id+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, ins, "g", "Group", "", "", "eng", "", 1, 50, 50,
		`{"displayName":"Eng","members":[{"value":"a"},{"value":"c"},{"value":"a"},{"display":"no value"}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	xs, total, err := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, Count: true, Offset: 1, Limit: 5})
	if err != nil || total != 3 || len(xs) != 2 || xs[0].ID != "c" || xs[1].ID != "a" {
		t.Fatalf("page after migration: %d %v %v", total, xs, err)
	}
	gs, err := st.SCIMGroupsOf(ctx, []string{"a", "b", "c"})
	if got := fmt.Sprint(gs); err != nil || got != "map[a:[{g Eng}] c:[{g Eng}]]" {
		t.Fatalf("members after migration: %s %v", got, err)
	}
	// New resources follow the migrated ones.
	x := store.SCIMResource{ID: "d", Type: store.SCIMUser, NameKey: "d", Doc: []byte(`{}`)}
	if err := st.WriteSCIM(ctx, []store.SCIMWrite{{Resource: x}}, nil); err != nil {
		t.Fatal(err)
	}
	if xs, total, _ := st.SCIMResources(ctx, store.SCIMQuery{Type: store.SCIMUser, Count: true, Offset: 3, Limit: 5}); total != 4 || len(xs) != 1 || xs[0].ID != "d" {
		t.Fatalf("after a new user: %d %v", total, xs)
	}
}
