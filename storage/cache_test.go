package storage_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage"
)

func TestVectorEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    []float32
	}{
		{"nil", nil},
		{"values", []float32{0, 1, -1, 0.5, math.MaxFloat32, math.SmallestNonzeroFloat32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := storage.EncodeVector(tt.v)
			require.Len(t, b, 4*len(tt.v))
			got, err := storage.DecodeVector(b)
			require.NoError(t, err)
			require.Equal(t, tt.v, got)
		})
	}
	require.Equal(t, []byte{0, 0, 0x80, 0x3f}, storage.EncodeVector([]float32{1}), "little-endian float32")
	_, err := storage.DecodeVector([]byte{1, 2, 3})
	require.Error(t, err)

	// The append forms add to what dst holds, in the same encoding.
	buf := storage.AppendVector([]byte{9}, []float32{1, -2})
	require.Equal(t, append([]byte{9}, storage.EncodeVector([]float32{1, -2})...), buf)
	require.Equal(t, []float32{7, 1, -2}, storage.AppendDecodedVector([]float32{7}, buf[1:]))
}
