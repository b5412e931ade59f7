package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRetrySchedule(t *testing.T) {
	got, err := ParseRetrySchedule(" 0s, 1s,2m ")
	if err != nil || len(got) != 3 || got[0] != 0 || got[1] != time.Second || got[2] != 2*time.Minute {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "5", "-1s", "soon"} {
		if _, err := ParseRetrySchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	def, err := ParseRetrySchedule(DefaultRetrySchedule)
	if err != nil || len(def) != 8 || def[7] != 10*time.Hour {
		t.Errorf("default schedule = %v, %v", def, err)
	}
}

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		url, driver, dsn string
		ok               bool
	}{
		{"sqlite://./data/switchboard.db", "sqlite", "./data/switchboard.db", true},
		{"sqlite:///var/lib/sb.db", "sqlite", "/var/lib/sb.db", true},
		{"postgres://u@localhost/db", "postgres", "postgres://u@localhost/db", true},
		{"postgresql://u@localhost/db", "postgres", "postgresql://u@localhost/db", true},
		{"sqlite://", "", "", false},
		{"mysql://x", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		got, err := ParseDatabaseURL(tt.url)
		if (err == nil) != tt.ok || got.Driver != tt.driver || got.DSN != tt.dsn {
			t.Errorf("ParseDatabaseURL(%q) = %+v, %v", tt.url, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := func() *Config {
		return &Config{Addr: "127.0.0.1:8080", DatabaseURL: "sqlite://x.db", RetrySchedule: []time.Duration{0}, MaxBodyBytes: 1 << 20,
			DeliveryConcurrency: 1, DeliveryTimeout: time.Second, DeliveryTargetConcurrency: 1, TransformTimeout: time.Second, TransformMemoryMB: 128, TransformRunners: 2, LogFormat: "text"}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for name, spoil := range map[string]func(*Config){
		"addr":        func(c *Config) { c.Addr = "8080" },
		"database":    func(c *Config) { c.DatabaseURL = "x" },
		"public url":  func(c *Config) { c.PublicURL = "example.com" },
		"body":        func(c *Config) { c.MaxBodyBytes = 10 },
		"concurrency": func(c *Config) { c.DeliveryConcurrency = 0 },
		"timeout":     func(c *Config) { c.DeliveryTimeout = 0 },
		"transform":   func(c *Config) { c.TransformTimeout = time.Minute },
		"memory":      func(c *Config) { c.TransformMemoryMB = 8 },
		"runners":     func(c *Config) { c.TransformRunners = 0 },
		"disable":     func(c *Config) { c.TargetDisableAfter = -time.Second },
		"log format":  func(c *Config) { c.LogFormat = "xml" },
	} {
		c := valid()
		spoil(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
}

func TestRedactDatabaseURL(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"sqlite", "sqlite://./data/switchboard.db", "sqlite://./data/switchboard.db"},
		{"no password", "postgres://u@db.internal:5432/sb?sslmode=disable", "postgres://u@db.internal:5432/sb?sslmode=disable"},
		{"user info", "postgres://u:s3cr3t@db.internal:5432/sb", "postgres://u:xxxxx@db.internal:5432/sb"},
		{"escaped user info", "postgresql://u:p%40ss%2Fw0rd@db/sb", "postgresql://u:xxxxx@db/sb"},
		{"query parameter", "postgres://u@db/sb?password=s3cr3t&sslmode=require", "postgres://u@db/sb?password=xxxxx&sslmode=require"},
		{"unescaped characters", "postgres://u:pa ss#w@rd@db/sb", "postgres://u:xxxxx@db/sb"},
		{"key=value", "host=db user=u password=s3cr3t dbname=sb", "host=db user=u password=xxxxx dbname=sb"},
		{"key=value quoted", "host=db password='s3 cr\\'et' dbname=sb", "host=db password=xxxxx dbname=sb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactDatabaseURL(tt.url); got != tt.want {
				t.Errorf("RedactDatabaseURL(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestRedactDatabaseError(t *testing.T) {
	base := errors.New("boom")
	for _, u := range []string{
		"postgres://u:s3cr3t-pw@db/sb",
		"postgres://u:s3cr3t%2Dpw@db/sb",
		"postgres://u@db/sb?password=s3cr3t-pw",
		"host=db password=s3cr3t-pw",
	} {
		err := RedactDatabaseError(fmt.Errorf("connect to %s (password s3cr3t-pw): %w", u, base), u)
		if strings.Contains(err.Error(), "s3cr3t") || !errors.Is(err, base) {
			t.Errorf("%s: %v", u, err)
		}
	}
	if err := RedactDatabaseError(base, "postgres://u@db/sb"); err != base {
		t.Errorf("an error without a password was changed: %v", err)
	}
}
