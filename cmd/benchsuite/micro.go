package main

import (
	"fmt"
	"strings"
)

// microPair is a hot path's Go micro-benchmark beside its baseline: the
// least the same work can cost, measured in the same run.
type microPair struct {
	Path     string `json:"path"`
	Hub      stat   `json:"hub"`
	Baseline stat   `json:"baseline"`
	// What the baseline is, for the table.
	BaselineIs string `json:"baselineIs"`
}

// microPairs are the hot paths the suite reports beside their baselines:
// the benchmark names (with the run key whose output holds each) in µs.
var microPairs = []struct {
	path, hubKey, hub, baseKey, base, baselineIs string
}{
	{"API-key check (cached integration, header, SHA-256, compare)", goMicro, "BenchmarkAPIKeyCheck/hub", goMicro, "BenchmarkAPIKeyCheck/baseline", "SHA-256 and a constant-time compare"},
	{"payload validation, custom channel", goMicro, "BenchmarkPayloadValidation/custom", goMicro, "BenchmarkPayloadValidation/baseline", "json.Unmarshal into a map"},
	{"template render (URL placeholder, nested body)", goMicro, "BenchmarkRender/templates", goMicro, "BenchmarkRender/baseline", "a strings.Replacer and a literal map"},
	{"plugin round trip, one caller", goRoundTrip, "BenchmarkRoundTrip", goMicro, "BenchmarkInProcess", "the plugin's work called in process"},
	{"transform through the sandbox, 2 callers", goTransform, "BenchmarkTransform", goMicro, "BenchmarkEvaluate", "the same script in a fresh runtime in process"},
	{"one inbound message made durable alone, SQLite", goMicro, "BenchmarkStoreWrite/sqlite/ingest", goMicro, "BenchmarkStoreWrite/sqlite/baseline", "one row inserted and committed"},
	{"one inbound message made durable alone, PostgreSQL", goMicro, "BenchmarkStoreWrite/postgres/ingest", goMicro, "BenchmarkStoreWrite/postgres/baseline", "one row inserted and committed"},
}

// microArgs are the go test arguments of the micro-benchmarks' step.
func microArgs(benchTime string, runs int) []string {
	return []string{"-bench", "APIKeyCheck|PayloadValidation|^BenchmarkRender$|InProcess|^BenchmarkEvaluate$|StoreWrite",
		"-benchtime", benchTime, "-count", fmt.Sprint(runs),
		"./core/inbound/", "./plugins/custom/", "./core/delivery/", "./scripts/", "./core/store/"}
}

// micro pairs each hot path's runs with its baseline's, in µs.
func (s *suite) micro() []microPair {
	us := func(key, name string) stat {
		var v []float64
		for _, ns := range metric(s.goRuns[key], name, "ns/op") {
			v = append(v, ns/1000)
		}
		return summarize(v)
	}
	var out []microPair
	for _, p := range microPairs {
		mp := microPair{Path: p.path, Hub: us(p.hubKey, p.hub), Baseline: us(p.baseKey, p.base), BaselineIs: p.baselineIs}
		if mp.Hub.ok() || mp.Baseline.ok() {
			out = append(out, mp)
		}
	}
	return out
}

// microTable writes the hot paths beside their baselines.
func microTable(pairs []microPair) string {
	if len(pairs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n| hot path (Go micro-benchmark) | the hub's code | baseline | the baseline is | ratio |\n|---|---|---|---|---|\n")
	for _, p := range pairs {
		ratio := "—"
		if p.Hub.ok() && p.Baseline.ok() && p.Baseline.Median > 0 {
			ratio = fmtNum(p.Hub.Median/p.Baseline.Median, 2) + "×"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", p.Path, fmtStat(p.Hub, "µs"), fmtStat(p.Baseline, "µs"), p.BaselineIs, ratio)
	}
	return b.String()
}
