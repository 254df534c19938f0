//go:build race

package pdf

// raceAddressFactor multiplies a child's address-space limit: under the
// race detector every heap mapping also needs shadow memory.
const raceAddressFactor = 4
