package web

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// The inbox puts overdue tasks first (oldest deadline first), then the
// others by due date, and tasks without a deadline last.
func TestSortTasksOverdueFirst(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(id int64, due time.Time) taskRow {
		return taskRow{CaseTask: store.CaseTask{ID: id, Due: due}, Overdue: !due.IsZero() && due.Before(now)}
	}
	ts := []taskRow{mk(1, time.Time{}), mk(2, now.Add(48*time.Hour)), mk(3, now.Add(-time.Hour)), mk(4, now.Add(time.Hour)), mk(5, now.Add(-72*time.Hour))}
	sortTasks(ts)
	var got []int64
	for _, x := range ts {
		got = append(got, x.ID)
	}
	if want := []int64{5, 3, 4, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// cut keeps one page and links to its neighbours with the filters kept.
func TestCutPagesKeepFilters(t *testing.T) {
	rows := make([]int, 2*PageSize+3)
	for i := range rows {
		rows[i] = i
	}
	r := httptest.NewRequest("GET", "/people?q=ann&page=2", nil)
	page, pg := cut(r, rows, 2)
	if len(page) != PageSize || page[0] != PageSize || pg.Prev != "/people?page=1&q=ann" || pg.Next != "/people?page=3&q=ann" {
		t.Fatalf("page 2: %d rows from %d, prev %q next %q", len(page), page[0], pg.Prev, pg.Next)
	}
	page, pg = cut(r, rows, 3)
	if len(page) != 3 || pg.Next != "" {
		t.Fatalf("last page: %d rows, next %q", len(page), pg.Next)
	}
	if page, _ = cut(r, rows, 9); len(page) != 0 {
		t.Fatalf("past the end: %d rows", len(page))
	}
}
