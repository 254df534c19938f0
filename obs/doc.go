// Package obs holds ragqueue's Prometheus metrics: the HTTP request
// figures cmd/api records, the pipeline figures the jobs record, and the
// registry they are exported from. There is no global registry: each
// process builds one with NewRegistry and hands it to the constructors.
package obs
