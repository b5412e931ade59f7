package config

import (
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
			DeliveryConcurrency: 1, DeliveryTimeout: time.Second, DeliveryTargetConcurrency: 1, TransformTimeout: time.Second, LogFormat: "text"}
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
