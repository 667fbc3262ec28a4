package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSQLiteReadPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, Config{SQLitePath: filepath.Join(t.TempDir(), "reehub.db")})
	require.NoError(t, err)
	defer st.Close()
	require.NotNil(t, st.rdb, "SQLite has a read pool")

	// The read pool cannot write.
	err = st.read().WithContext(ctx).Exec(`INSERT INTO users (name, password_hash, role, created_at) VALUES ('x', '', 'user', CURRENT_TIMESTAMP)`).Error
	require.Error(t, err)
	require.Contains(t, err.Error(), "readonly")

	// Readers see every committed write at once, also while others write.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				u := User{Name: fmt.Sprintf("u%d-%d", i, j), Role: RoleUser}
				if err := st.CreateUser(ctx, &u); err != nil {
					errs <- err
					return
				}
				got, err := st.UserByName(ctx, u.Name)
				if err != nil {
					errs <- fmt.Errorf("read own write %s: %w", u.Name, err)
					return
				}
				if got.ID != u.ID {
					errs <- fmt.Errorf("%s: id %d, want %d", u.Name, got.ID, u.ID)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	// Inside a transaction reads go through the transaction, which sees its
	// own uncommitted rows.
	require.NoError(t, st.InTx(ctx, func(tx *Store) error {
		require.Nil(t, tx.rdb)
		u := User{Name: "in-tx", Role: RoleUser}
		require.NoError(t, tx.CreateUser(ctx, &u))
		_, err := tx.UserByID(ctx, u.ID)
		return err
	}))
}
