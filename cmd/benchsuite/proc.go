package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// procStat is what the suite reads of /proc/<pid>/stat.
type procStat struct {
	PPID int
	// Ticks is utime+stime of the process and cutime+cstime of its reaped
	// children, so a child that exits during a run keeps its CPU time in
	// the sum.
	Ticks uint64
}

// parseStat reads one /proc/<pid>/stat line. The command name is in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(line []byte) (procStat, error) {
	i := bytes.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("benchsuite: stat: no command name in %q", line)
	}
	f := strings.Fields(string(line[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("benchsuite: stat: %d fields after the command name", len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("benchsuite: stat: ppid: %w", err)
	}
	var ticks uint64
	for _, s := range f[11:15] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("benchsuite: stat: cpu times: %w", err)
		}
		ticks += n
	}
	return procStat{PPID: ppid, Ticks: ticks}, nil
}

// parseVmRSS returns VmRSS from a /proc/<pid>/status file, in bytes. A
// process without one (a zombie) has none: 0.
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("benchsuite: status: VmRSS %q", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("benchsuite: status: VmRSS: %w", err)
		}
		return kb << 10, nil
	}
	return 0, nil
}

// procFS reads processes under a /proc root (a directory of fixtures in
// tests).
type procFS string

// tree returns root and every process descended from it, alive now: a hub
// and its plugins, transform runners and their children.
func (p procFS) tree(root int) ([]int, error) {
	entries, err := os.ReadDir(string(p))
	if err != nil {
		return nil, fmt.Errorf("benchsuite: read %s: %w", p, err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := p.stat(pid)
		if err != nil {
			continue // gone since the listing
		}
		children[st.PPID] = append(children[st.PPID], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

func (p procFS) stat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(string(p), strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// cpuSeconds sums the CPU time of root's process tree.
func (p procFS) cpuSeconds(root int) (float64, error) {
	pids, err := p.tree(root)
	if err != nil {
		return 0, err
	}
	var ticks uint64
	for i, pid := range pids {
		st, err := p.stat(pid)
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("benchsuite: process %d: %w", root, err)
			}
			continue // a child that exited meanwhile
		}
		ticks += st.Ticks
	}
	return float64(ticks) / clockTicks, nil
}

// rss sums the resident memory of root's process tree, in bytes, and
// returns how many processes it counted.
func (p procFS) rss(root int) (int64, int, error) {
	pids, err := p.tree(root)
	if err != nil {
		return 0, 0, err
	}
	var sum int64
	n := 0
	for i, pid := range pids {
		b, err := os.ReadFile(filepath.Join(string(p), strconv.Itoa(pid), "status"))
		if err != nil {
			if i == 0 {
				return 0, 0, fmt.Errorf("benchsuite: process %d: %w", root, err)
			}
			continue
		}
		v, err := parseVmRSS(b)
		if err != nil {
			return 0, 0, err
		}
		sum += v
		n++
	}
	return sum, n, nil
}
