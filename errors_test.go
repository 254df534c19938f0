package ragqueue_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ragqueue/ragqueue"
	"github.com/stretchr/testify/require"
)

func TestErrorCodeAndMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"plain", errors.New("boom: /secret/path"), ragqueue.EINTERNAL, "internal error"},
		{"direct", ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", "d1"), ragqueue.ENOTFOUND, "document d1 not found"},
		{"wrapped", fmt.Errorf("storage: get: %w", ragqueue.Errorf(ragqueue.ECONFLICT, "busy")), ragqueue.ECONFLICT, "busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.wantCode, ragqueue.ErrorCode(tt.err))
			require.Equal(t, tt.wantMsg, ragqueue.ErrorMessage(tt.err))
		})
	}
	require.True(t, ragqueue.IsNotFound(ragqueue.Errorf(ragqueue.ENOTFOUND, "x")))
}
