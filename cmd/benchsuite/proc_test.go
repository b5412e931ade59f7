package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses: fields count from the last ')'.
	line := "4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 500 0 0 0 150 25 7 3 20 0 9 0 100 1000000 300 18446744073709551615\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != 17 || st.Ticks != 150+25+7+3 {
		t.Errorf("parseStat = %+v, want ppid 17 and 185 ticks", st)
	}
	for _, bad := range []string{"", "12 no parens S 1", "12 (x) S 1 2 3", "12 (x) S one 1 1 1 1 1 1 1 1 1 1 1 1 1"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tswitchboard\nVmPeak:\t  900000 kB\nVmRSS:\t   51200 kB\nThreads:\t9\n"
	if got, err := parseVmRSS([]byte(status)); err != nil || got != 51200<<10 {
		t.Errorf("parseVmRSS = %d, %v", got, err)
	}
	// A zombie has no VmRSS line: nothing resident.
	if got, err := parseVmRSS([]byte("Name:\tx\nState:\tZ (zombie)\n")); err != nil || got != 0 {
		t.Errorf("zombie: %d, %v", got, err)
	}
	if _, err := parseVmRSS([]byte("VmRSS:\t12 MB\n")); err == nil {
		t.Error("a VmRSS in another unit was accepted")
	}
}

// writeProc lays out a fake /proc: pid → (ppid, ticks, rss kB).
func writeProc(t *testing.T, procs map[int][3]int) procFS {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, strconv.Itoa(pid))
		os.MkdirAll(dir, 0o755)
		stat := strconv.Itoa(pid) + " (p) S " + strconv.Itoa(p[0]) + " 1 1 0 -1 0 0 0 0 0 " + strconv.Itoa(p[1]) + " 0 0 0 20 0 1 0\n"
		os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644)
		os.WriteFile(filepath.Join(dir, "status"), []byte("VmRSS:\t"+strconv.Itoa(p[2])+" kB\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(root, "self"), 0o755) // not a pid: skipped
	return procFS(root)
}

func TestProcTree(t *testing.T) {
	// 10 is the hub; 11 and 12 its plugins; 13 a runner's child; 20 and 21 strangers.
	p := writeProc(t, map[int][3]int{
		10: {1, 100, 40000}, 11: {10, 20, 10000}, 12: {10, 30, 10000}, 13: {12, 5, 2000},
		20: {1, 999, 99999}, 21: {20, 999, 99999},
	})
	tree, err := p.tree(10)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tree)
	if !slices.Equal(tree, []int{10, 11, 12, 13}) {
		t.Errorf("tree(10) = %v", tree)
	}
	if cpu, err := p.cpuSeconds(10); err != nil || math.Abs(cpu-1.55) > 1e-9 {
		t.Errorf("cpuSeconds = %v, %v; want 1.55", cpu, err)
	}
	if rss, n, err := p.rss(10); err != nil || rss != 62000<<10 || n != 4 {
		t.Errorf("rss = %d over %d, %v", rss, n, err)
	}
	if _, err := p.cpuSeconds(99); err == nil {
		t.Error("a missing process was measured")
	}
}

// TestProcLive reads the real /proc: this test's process tree includes a
// child it starts, and has memory and some CPU time.
func TestProcLive(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Skip("no sleep command")
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	p := procFS("/proc")
	tree, err := p.tree(os.Getpid())
	if err != nil || !slices.Contains(tree, child.Process.Pid) {
		t.Errorf("tree of the test = %v (%v), want it to hold the child %d", tree, err, child.Process.Pid)
	}
	rss, n, err := p.rss(os.Getpid())
	if err != nil || rss < 1<<20 || n < 2 {
		t.Errorf("rss = %d over %d processes, %v", rss, n, err)
	}
	if cpu, err := p.cpuSeconds(os.Getpid()); err != nil || cpu < 0 {
		t.Errorf("cpu = %v, %v", cpu, err)
	}
}

func TestParseMachine(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Processor\n"
	if model, cores := parseCPUInfo([]byte(cpuinfo)); model != "Intel(R) Xeon(R) Processor" || cores != 2 {
		t.Errorf("parseCPUInfo = %q, %d", model, cores)
	}
	if mem, err := parseMemTotal([]byte("MemTotal:       24684092 kB\nMemFree:  1 kB\n")); err != nil || mem != 24684092<<10 {
		t.Errorf("parseMemTotal = %d, %v", mem, err)
	}
	if _, err := parseMemTotal([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("meminfo without MemTotal accepted")
	}
}
