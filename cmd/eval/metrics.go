package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// cutoff is the rank depth every metric is computed at.
const cutoff = 10

// ndcg returns nDCG@cutoff of ranked (corpus IDs, best first) under rel,
// with linear gains as trec_eval and BEIR compute it.
func ndcg(ranked []string, rel map[string]int) float64 {
	var dcg float64
	for i, id := range ranked[:min(cutoff, len(ranked))] {
		if g := rel[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	gains := make([]int, 0, len(rel))
	for _, g := range rel {
		if g > 0 {
			gains = append(gains, g)
		}
	}
	slices.SortFunc(gains, func(a, b int) int { return b - a })
	var ideal float64
	for i, g := range gains[:min(cutoff, len(gains))] {
		ideal += float64(g) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

// recall returns the share of rel's relevant passages found in the first
// cutoff of ranked.
func recall(ranked []string, rel map[string]int) float64 {
	relevant, found := 0, 0
	for _, g := range rel {
		if g > 0 {
			relevant++
		}
	}
	for _, id := range ranked[:min(cutoff, len(ranked))] {
		if rel[id] > 0 {
			found++
		}
	}
	if relevant == 0 {
		return 0
	}
	return float64(found) / float64(relevant)
}

// mrr returns 1/rank of the first relevant passage within cutoff, or 0.
func mrr(ranked []string, rel map[string]int) float64 {
	for i, id := range ranked[:min(cutoff, len(ranked))] {
		if rel[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// result is one row of the report: a retrieval mode's mean metrics over
// the judged queries and its search latency percentiles.
type result struct {
	Mode           string
	NDCG, Recall   float64
	MRR            float64
	P50, P95       time.Duration
	Queries        int
	latencies      []time.Duration
	sumN, sumR, sm float64
}

// add records one query's ranking and latency.
func (r *result) add(ranked []string, rel map[string]int, took time.Duration) {
	r.sumN += ndcg(ranked, rel)
	r.sumR += recall(ranked, rel)
	r.sm += mrr(ranked, rel)
	r.latencies = append(r.latencies, took)
	r.Queries++
}

// finish turns the sums into means and the latencies into percentiles.
func (r *result) finish() {
	if r.Queries == 0 {
		return
	}
	n := float64(r.Queries)
	r.NDCG, r.Recall, r.MRR = r.sumN/n, r.sumR/n, r.sm/n
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration { return r.latencies[int(math.Ceil(p*float64(len(r.latencies))))-1] }
	r.P50, r.P95 = pct(0.50), pct(0.95)
}

// writeTable prints the report: a line naming what was measured, then one
// row per mode.
func writeTable(w io.Writer, header string, rows []result) error {
	if _, err := fmt.Fprintf(w, "%s\n%-7s %8s %10s %7s %8s %8s\n", header, "mode", "nDCG@10", "recall@10", "MRR@10", "p50_ms", "p95_ms"); err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "%-7s %8.3f %10.3f %7.3f %8.2f %8.2f\n", r.Mode, r.NDCG, r.Recall, r.MRR,
			float64(r.P50.Microseconds())/1e3, float64(r.P95.Microseconds())/1e3); err != nil {
			return err
		}
	}
	return nil
}
