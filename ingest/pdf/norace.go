//go:build !race

package pdf

// raceAddressFactor multiplies a child's address-space limit: 1 without
// the race detector.
const raceAddressFactor = 1
