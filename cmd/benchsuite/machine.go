package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "github.com/glebarez/sqlite"     // registers the "sqlite" driver the hub uses
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// machine is what the figures were measured on.
type machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	MemoryMiB  int64  `json:"memoryMiB"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	Postgres   string `json:"postgres,omitempty"`
	SQLite     string `json:"sqlite"`
	Commit     string `json:"commit"`
	CommitDate string `json:"commitDate"`
	Dirty      bool   `json:"dirty"`
	Date       string `json:"date"`
	// LoadBefore and LoadAfter are the 1-minute load averages when the
	// suite began and ended: on a shared machine, what else ran.
	LoadBefore string `json:"loadBefore"`
	LoadAfter  string `json:"loadAfter,omitempty"`
}

// loadAverage is the 1-minute load average from /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// parseCPUInfo returns the first model name and the number of logical
// processors in /proc/cpuinfo.
func parseCPUInfo(b []byte) (model string, cores int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "processor":
			cores++
		case "model name":
			if model == "" {
				model = strings.TrimSpace(val)
			}
		}
	}
	return model, cores
}

// parseMemTotal returns MemTotal from /proc/meminfo, in bytes.
func parseMemTotal(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("benchsuite: meminfo: MemTotal %q", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("benchsuite: meminfo: %w", err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("benchsuite: meminfo: no MemTotal")
}

// describeMachine reads the machine from /proc, the toolchain, the
// databases and git. pgURL may be empty (no PostgreSQL in this run).
func describeMachine(ctx context.Context, pgURL string) (machine, error) {
	m := machine{Go: runtime.Version(), Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), LoadBefore: loadAverage()}
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return m, fmt.Errorf("benchsuite: %w", err)
	}
	m.CPU, m.Cores = parseCPUInfo(cpuinfo)
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return m, fmt.Errorf("benchsuite: %w", err)
	}
	mem, err := parseMemTotal(meminfo)
	if err != nil {
		return m, err
	}
	m.MemoryMiB = mem >> 20
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if m.SQLite, err = queryVersion(ctx, "sqlite", ":memory:", "select sqlite_version()"); err != nil {
		return m, err
	}
	if pgURL != "" {
		v, err := queryVersion(ctx, "pgx", pgURL, "SELECT version()")
		if err != nil {
			return m, err
		}
		// "PostgreSQL 15.8 (Debian …) on x86_64-pc-linux-gnu, compiled by …"
		m.Postgres, _, _ = strings.Cut(v, " on ")
	}
	git := func(args ...string) string {
		out, err := exec.CommandContext(ctx, "git", args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	m.Commit = git("rev-parse", "--short=12", "HEAD")
	m.CommitDate = git("log", "-1", "--format=%cd", "--date=format:%Y-%m-%d")
	m.Dirty = git("status", "--porcelain", "--untracked-files=no") != ""
	return m, nil
}

func queryVersion(ctx context.Context, driver, dsn, q string) (string, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return "", fmt.Errorf("benchsuite: %s version: %w", driver, err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return "", fmt.Errorf("benchsuite: %s version: %w", driver, err)
	}
	return v, nil
}
