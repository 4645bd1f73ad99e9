package litestream_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The test database is written and read with Debian's sqlite3 shell (a real
// SQLite); Overseerr keeps its database in WAL mode, which Litestream needs.

func sqlite(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, "sqlite3", "-batch", db)
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("sqlite3 %s: %w: %s", db, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func mustSQL(t *testing.T, ctx context.Context, db, sql string) string {
	t.Helper()
	out, err := sqlite(ctx, db, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createDB makes an Overseerr-like table in WAL mode with rows 1..n.
func createDB(t *testing.T, ctx context.Context, db string, n int) {
	t.Helper()
	mustSQL(t, ctx, db, "PRAGMA journal_mode=WAL;\nCREATE TABLE media_request (id INTEGER PRIMARY KEY, title TEXT NOT NULL, status INTEGER NOT NULL);\n")
	insertRows(t, ctx, db, 1, n)
}

func insertRows(t *testing.T, ctx context.Context, db string, from, to int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("BEGIN;\n")
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "INSERT INTO media_request (id, title, status) VALUES (%d, 'title %d', %d);\n", i, i, i%5)
	}
	b.WriteString("COMMIT;\n")
	mustSQL(t, ctx, db, b.String())
}

// rows is every row, one "id|title|status" line each, in id order.
func rows(ctx context.Context, db string) (string, error) {
	if _, err := os.Stat(db); err != nil {
		return "", err
	}
	return sqlite(ctx, db, "SELECT id, title, status FROM media_request ORDER BY id;\n")
}

func countRows(ctx context.Context, db string) (int, error) {
	out, err := sqlite(ctx, db, "SELECT count(*) FROM media_request;\n")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(out)
}

func requireSQLite(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("sqlite3 is missing: hack/bootstrap.sh installs Debian's sqlite3 (or: apt-get install -y sqlite3)")
	}
}
