package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLogsFollowADocument checks that one document can be followed through
// the logs by its doc_id: the API's access line for the upload and the
// worker's task lines carry it, with the tenant and the job id.
func TestLogsFollowADocument(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_LOG_LEVEL": "info"})
	writer := b.newKey(t, "loggers", "writer")
	id, jobID := b.postText(t, writer, "Logs", "Structured logs carry the ids that tie an upload to its jobs.")
	require.Equal(t, "ready", b.waitStatus(t, writer, id).Status)

	var api, worker []map[string]any
	read := func() {
		api, worker = nil, nil
		sc := bufio.NewScanner(strings.NewReader(b.logs.String()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
			if line["doc_id"] != id {
				continue
			}
			switch line["msg"] {
			case "http request":
				api = append(api, line)
			case "task done":
				worker = append(worker, line)
			}
		}
	}
	// The task's line is written when its handler returns, just after the
	// document is marked ready.
	require.Eventually(t, func() bool { read(); return len(worker) > 0 }, 10*time.Second, 10*time.Millisecond,
		"the worker's task lines name the document")
	require.NotEmpty(t, api, "the upload's access line names the document")
	require.Equal(t, "POST", api[0]["method"])
	require.Equal(t, "loggers", api[0]["tenant"])
	require.Equal(t, jobID, api[0]["job_id"])
	require.NotEmpty(t, worker, "the worker's task lines name the document")
	require.Equal(t, "loggers", worker[0]["tenant"])
	require.Equal(t, jobID, worker[0]["job_id"])
}
