package timeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"unsafe"
)

// QueryDriver runs query on a connection of db below database/sql and
// hands scan the driver's rows. The driver makes a fresh Go string of each
// text column of a row, which a caller may keep as it is; database/sql's
// Scan costs a conversion per column on top, which at a million rows is a
// good part of reading them.
func QueryDriver(ctx context.Context, db *sql.DB, query string, args []any, scan func(driver.Rows) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		// What database/sql would make of them: an int is an int64.
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return fmt.Errorf("argument %d: %w", i+1, err)
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the database driver cannot query")
		}
		rows, err := q.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		return scan(rows)
	})
}

// DriverInt is an integer column of a driver row; NULL is 0.
func DriverInt(v driver.Value, column string) (int64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return v, nil
	}
	return 0, fmt.Errorf("%s is %T, not an integer", column, v)
}

// DriverText is a text column of a driver row, viewed, not copied; NULL
// is "".
func DriverText(v driver.Value, column string) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		// The driver made the slice for this row alone, and nothing
		// writes it.
		return unsafe.String(unsafe.SliceData(v), len(v)), nil
	}
	return "", fmt.Errorf("%s is %T, not text", column, v)
}
