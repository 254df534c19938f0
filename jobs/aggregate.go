package jobs

import (
	"encoding/json"
	"log/slog"

	"github.com/hibiken/asynq"
)

// aggregateEmbeds is the server's GroupAggregator: the embed tasks of the
// group become one batch. A task that does not decode (it cannot come from
// this code) is dropped with the others kept.
func aggregateEmbeds(logger *slog.Logger) asynq.GroupAggregator {
	return asynq.GroupAggregatorFunc(func(group string, tasks []*asynq.Task) *asynq.Task {
		batch := EmbedBatchArgs{Docs: make([]EmbedArgs, 0, len(tasks))}
		for _, t := range tasks {
			var a EmbedArgs
			if err := json.Unmarshal(t.Payload(), &a); err != nil || t.Type() != TaskEmbed || a.validate() != nil {
				logger.Error("dropping a task that is not an embed task from an embedding batch", "group", group, "task_type", t.Type())
				continue
			}
			batch.Docs = append(batch.Docs, a)
		}
		task, err := NewTask(batch)
		if err != nil {
			// An empty batch: NewTask refuses it; Asynq needs a task.
			task = asynq.NewTask(TaskEmbedBatch, []byte(`{"docs":[]}`))
		}
		return task
	})
}
