package sqlstore

import (
	"fmt"
	"time"
)

// timeCol reads a time column in either encoding, Unix nanoseconds
// (SQLite) or a timestamp (PostgreSQL), as UTC.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	t, err := decodeTime(src)
	if err != nil {
		return err
	}
	*c.t = t
	return nil
}

// nullTimeCol reads an optional time column as timeCol does: NULL is nil.
type nullTimeCol struct{ t **time.Time }

// Scan implements sql.Scanner.
func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	t, err := decodeTime(src)
	if err != nil {
		return err
	}
	*c.t = &t
	return nil
}

func decodeTime(src any) (time.Time, error) {
	switch v := src.(type) {
	case int64:
		return time.Unix(0, v).UTC(), nil
	case time.Time:
		return v.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time column holds %T", src)
}
