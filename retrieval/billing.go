package retrieval

// CallBiller is an Embedder that costs per call more than per text, as a
// model provider's API does (a request's latency and rate-limit share):
// the pipeline then has small documents share embedding calls.
type CallBiller interface {
	BillsPerCall() bool
}

// BillsPerCall reports whether e costs per call (CallBiller), so that
// texts of several documents are worth gathering into one call. Embedders
// computed in process, such as the hash embedder, do not.
func BillsPerCall(e Embedder) bool {
	b, ok := e.(CallBiller)
	return ok && b.BillsPerCall()
}
