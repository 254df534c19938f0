package qdrant

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ragqueue/ragqueue"
)

func TestConfigFromURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		addr    string
		tls     bool
		wantErr bool
	}{
		{raw: "http://qdrant:6334", addr: "qdrant:6334"},
		{raw: "grpc://qdrant", addr: "qdrant:6334"},
		{raw: "https://xyz.cloud.qdrant.io:6334", addr: "xyz.cloud.qdrant.io:6334", tls: true},
		{raw: "grpcs://xyz.cloud.qdrant.io", addr: "xyz.cloud.qdrant.io:6334", tls: true},
		{raw: "127.0.0.1:7000", addr: "127.0.0.1:7000"},
		{raw: "localhost", addr: "localhost:6334"},
		{raw: "http://[::1]:6334", addr: "[::1]:6334"},
		{raw: "ftp://qdrant", wantErr: true},
		{raw: "http://", wantErr: true},
		{raw: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			cfg, err := ConfigFromURL(tt.raw, "key")
			if tt.wantErr {
				require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, Config{Addr: tt.addr, APIKey: "key", UseTLS: tt.tls}, cfg)
		})
	}
}

func TestMapErr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"unavailable", status.Error(codes.Unavailable, "connection refused"), ragqueue.EUNAVAILABLE},
		{"deadline status", status.Error(codes.DeadlineExceeded, "deadline"), ragqueue.ETIMEOUT},
		{"context deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), ragqueue.ETIMEOUT},
		{"overloaded", status.Error(codes.ResourceExhausted, "slow down"), ragqueue.ERATELIMIT},
		{"wrapped status", fmt.Errorf("Query() failed: %w", status.Error(codes.Unavailable, "x")), ragqueue.EUNAVAILABLE},
		{"bad argument stays internal", status.Error(codes.InvalidArgument, "bad"), ragqueue.EINTERNAL},
		{"plain error", errors.New("boom"), ragqueue.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mapErr(tt.err)
			require.Equal(t, tt.code, ragqueue.ErrorCode(got))
			require.ErrorIs(t, got, tt.err, "the original error stays in the chain")
		})
	}
	require.NoError(t, mapErr(nil))
}
