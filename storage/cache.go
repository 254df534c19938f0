package storage

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Vectors are stored as little-endian float32s: the answer cache's question
// embeddings in both metadata stores, and the embedded index's chunk
// vectors.

// EncodeVector packs a vector as little-endian float32s; nil stays nil.
func EncodeVector(v []float32) []byte {
	if v == nil {
		return nil
	}
	return AppendVector(make([]byte, 0, 4*len(v)), v)
}

// AppendVector appends v, packed as EncodeVector packs it, to dst: a caller
// writing many vectors reuses one buffer.
func AppendVector(dst []byte, v []float32) []byte {
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	return dst
}

// DecodeVector unpacks what EncodeVector packed.
func DecodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("storage: vector of %d bytes is not float32s", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	return AppendDecodedVector(make([]float32, 0, len(b)/4), b), nil
}

// AppendDecodedVector appends the float32s packed in b to dst, ignoring a
// trailing partial one; callers check b's length against their dimension.
func AppendDecodedVector(dst []float32, b []byte) []float32 {
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return dst
}
