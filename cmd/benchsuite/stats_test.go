package main

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want stat
	}{
		{name: "odd", in: []float64{5, 1, 3}, want: stat{N: 3, Median: 3, Min: 1, Max: 5}},
		{name: "even takes the middle two's mean", in: []float64{4, 1, 3, 10}, want: stat{N: 4, Median: 3.5, Min: 1, Max: 10}},
		{name: "one", in: []float64{7}, want: stat{N: 1, Median: 7, Min: 7, Max: 7}},
		{name: "a run without a figure is left out", in: []float64{2, math.NaN(), 6}, want: stat{N: 2, Median: 4, Min: 2, Max: 6}},
		{name: "none", in: nil, want: stat{}},
		{name: "only NaN", in: []float64{math.NaN()}, want: stat{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := summarize(tc.in); got != tc.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] && !math.IsNaN(in[i]) {
					t.Errorf("summarize reordered its input: %v", tc.in)
				}
			}
		})
	}
}

func TestSlope(t *testing.T) {
	if got := slope([]float64{0, 1, 2, 3}, []float64{10, 12, 14, 16}); math.Abs(got-2) > 1e-9 {
		t.Errorf("slope of a line of 2 = %v", got)
	}
	if got := slope([]float64{0, 1, 2, 3}, []float64{5, 5, 5, 5}); got != 0 {
		t.Errorf("slope of a flat line = %v", got)
	}
	if got := slope([]float64{1}, []float64{1}); !math.IsNaN(got) {
		t.Errorf("slope of one point = %v, want NaN", got)
	}
	if got := slope([]float64{2, 2}, []float64{1, 3}); !math.IsNaN(got) {
		t.Errorf("slope over one x = %v, want NaN", got)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtCount(1234567.4), "1,234,567"},
		{fmtCount(999), "999"},
		{fmtCount(-4321), "-4,321"},
		{fmtCount(math.NaN()), "—"},
		{fmtStat(stat{N: 3, Median: 5012.4, Min: 4800, Max: 5300}, "msg/s"), "5,012 msg/s [4,800–5,300]"},
		{fmtStat(stat{N: 1, Median: 12.34}, "ms"), "12.3 ms"},
		{fmtStat(stat{N: 2, Median: 3.456, Min: 3.1, Max: 3.8}, "ms"), "3.46 ms [3.10–3.80]"},
		{fmtStat(stat{}, "ms"), "—"},
		{fmtRatio(&stat{N: 1, Median: 0.4123}, "msg/s"), "41%"},
		{fmtRatio(&stat{N: 1, Median: 1.5}, "ms"), "1.50×"},
		{fmtRatio(nil, "ms"), "—"},
		{shellJoin([]string{"go", "test", "-run", "^$", "--url", "$HUB,$HUB2", "--database-url", `"$DB"`, "it's"}),
			`go test -run '^$' --url $HUB,$HUB2 --database-url "$DB" 'it'\''s'`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
