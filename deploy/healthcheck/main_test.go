package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProbeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, path, want, wantErr string
	}{
		{addr: "", path: "/healthz", want: "http://127.0.0.1:8080/healthz"},
		{addr: ":9000", path: "/readyz", want: "http://127.0.0.1:9000/readyz"},
		{addr: "0.0.0.0:8080", path: "healthz", want: "http://127.0.0.1:8080/healthz"},
		{addr: "[::]:8080", path: "/healthz", want: "http://[::1]:8080/healthz"},
		{addr: "127.0.0.2:81", path: "/healthz", want: "http://127.0.0.2:81/healthz"},
		{addr: "8080", path: "/healthz", wantErr: "RAGQ_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			got, err := probeURL(tt.addr, tt.path)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/readyz":
			http.Error(w, `{"status":"not ready"}`, http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	require.NoError(t, closed.Close())

	tests := []struct {
		name, addr, path, wantErr string
	}{
		{name: "healthy", addr: ":" + port, path: "/healthz"},
		{name: "not ready", addr: ":" + port, path: "/readyz", wantErr: "503"},
		{name: "no route", addr: ":" + port, path: "/nope", wantErr: "404"},
		{name: "nobody listening", addr: closedAddr, path: "/healthz", wantErr: "healthcheck:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, err := probeURL(tt.addr, tt.path)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = probe(ctx, srv.Client().Transport, url)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
