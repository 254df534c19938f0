package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ragqueue/ragqueue/storage"
	"github.com/ragqueue/ragqueue/storage/postgres"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// openStores opens the metadata store and the SQLite database that holds
// the embedded index (and, without PostgreSQL, the metadata too). In
// SQLite mode they share one file, as promised by the README; with
// PostgreSQL metadata the embedded index gets its own.
func (a *App) openStores(ctx context.Context) (*sqlite.DB, error) {
	cfg := a.cfg
	indexPath := filepath.Join(cfg.DataDir, "ragqueue.db")
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("app: metadata database: %w", err)
		}
		a.closers = append(a.closers, func() error { pg.Close(); return nil })
		a.store = pg
		indexPath = filepath.Join(cfg.DataDir, "index.db")
	}
	db, err := sqlite.Open(ctx, indexPath)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.closers = append(a.closers, db.Close)
	if a.store == nil {
		a.store = sqlite.NewStore(db)
	}
	if err := a.openBlobs(); err != nil {
		return nil, err
	}
	return db, nil
}

// openBlobs opens the blob store. Small blobs (fetched pages, short
// uploads) go to the metadata database: creating a file per blob is the
// biggest cost of a crawl. Both stores implement SmallBlobStore (the
// storetest contract suite requires it); a MetaStore that does not keeps
// every blob a file.
func (a *App) openBlobs() (err error) {
	var blobOpts []storage.BlobOption
	if small, ok := a.store.(storage.SmallBlobStore); ok {
		blobOpts = append(blobOpts, storage.WithSmallBlobs(small, storage.DefaultSmallBlobMax))
	}
	if a.blobs, err = storage.NewFileBlobs(filepath.Join(a.cfg.DataDir, "blobs"), blobOpts...); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}
