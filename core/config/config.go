// Package config holds the hub's configuration: flags, their environment
// twins, defaults and validation.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v3"
)

// DefaultRetrySchedule is the delay before each delivery attempt.
const DefaultRetrySchedule = "0s,5s,5m,30m,2h,5h,10h,10h"

// Config is everything `switchboard serve` needs.
type Config struct {
	Addr                string
	DatabaseURL         string
	PluginDir           string
	PublicURL           string
	AllowPrivateTargets bool
	RetrySchedule       []time.Duration
	LogLevel            slog.Level
	LogFormat           string
	ShutdownTimeout     time.Duration
	// MaxBodyBytes bounds every inbound webhook body.
	MaxBodyBytes int64
	// DeliveryConcurrency bounds deliveries in flight per process.
	DeliveryConcurrency int
	// DeliveryTimeout bounds one delivery attempt.
	DeliveryTimeout time.Duration
	// DebugAddr, when set, serves Go's pprof profiles there.
	DebugAddr string
	// DeliveryTargetConcurrency bounds attempts in flight to one target.
	DeliveryTargetConcurrency int
	// TargetDisableAfter disables a target failing continuously this long; 0 never.
	TargetDisableAfter time.Duration
	// ChatInactivityTimeout ends a chat on a connection whose last message
	// is this old; 0 never.
	ChatInactivityTimeout time.Duration
	// TransformTimeout bounds one run of a transform script.
	TransformTimeout time.Duration
	// TransformMemoryMB caps the memory of each transform runner process.
	TransformMemoryMB int
	// TransformRunners is the number of transform runner processes.
	TransformRunners int
	// LiveMaxStreams bounds the live streams (a widget's visitor waiting
	// for replies) this process holds open at once; 0 means the default.
	LiveMaxStreams int
	// LiveMaxStreamsPerIntegration bounds them per integration; 0 means the default.
	LiveMaxStreamsPerIntegration int
}

// Defaults of the live stream limits.
const (
	DefaultLiveMaxStreams               = 10000
	DefaultLiveMaxStreamsPerIntegration = 1000
)

// DatabaseFlags are shared by every command that opens the database.
func DatabaseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:    "database-url",
			Usage:   "sqlite://PATH for the embedded database, postgres://… for PostgreSQL",
			Value:   "sqlite://./data/switchboard.db",
			Sources: cli.EnvVars("SWITCHBOARD_DATABASE_URL"),
		},
		&cli.StringFlag{
			Name:    "log-level",
			Usage:   "debug, info, warn or error",
			Value:   "info",
			Sources: cli.EnvVars("SWITCHBOARD_LOG_LEVEL"),
		},
		&cli.StringFlag{
			Name:    "log-format",
			Usage:   "text or json",
			Value:   "text",
			Sources: cli.EnvVars("SWITCHBOARD_LOG_FORMAT"),
		},
	}
}

// ServeFlags are the flags of `switchboard serve`.
func ServeFlags() []cli.Flag {
	return append(DatabaseFlags(),
		&cli.StringFlag{
			Name:    "addr",
			Usage:   "address the HTTP server listens on",
			Value:   "127.0.0.1:8080",
			Sources: cli.EnvVars("SWITCHBOARD_ADDR"),
		},
		&cli.StringFlag{
			Name:    "plugin-dir",
			Usage:   "directory of channel plugin executables (default: plugins/ next to the binary)",
			Sources: cli.EnvVars("SWITCHBOARD_PLUGIN_DIR"),
		},
		&cli.StringFlag{
			Name:    "public-url",
			Usage:   "base URL the outside world reaches the hub at, used when showing inbound URLs",
			Sources: cli.EnvVars("SWITCHBOARD_PUBLIC_URL"),
		},
		&cli.BoolFlag{
			Name:    "allow-private-targets",
			Usage:   "let deliveries reach loopback and private addresses, over plain http too",
			Sources: cli.EnvVars("SWITCHBOARD_ALLOW_PRIVATE_TARGETS"),
		},
		&cli.StringFlag{
			Name:    "retry-schedule",
			Usage:   "comma-separated delays before each delivery attempt",
			Value:   DefaultRetrySchedule,
			Sources: cli.EnvVars("SWITCHBOARD_RETRY_SCHEDULE"),
		},
		&cli.DurationFlag{
			Name:    "shutdown-timeout",
			Usage:   "how long shutdown waits for in-flight work",
			Value:   15 * time.Second,
			Sources: cli.EnvVars("SWITCHBOARD_SHUTDOWN_TIMEOUT"),
		},
		&cli.IntFlag{
			Name:    "max-body-bytes",
			Usage:   "largest inbound webhook body accepted",
			Value:   1 << 20,
			Sources: cli.EnvVars("SWITCHBOARD_MAX_BODY_BYTES"),
		},
		&cli.IntFlag{
			Name:    "delivery-concurrency",
			Usage:   "deliveries in flight at once in this process",
			Value:   64,
			Sources: cli.EnvVars("SWITCHBOARD_DELIVERY_CONCURRENCY"),
		},
		&cli.IntFlag{
			Name:    "delivery-target-concurrency",
			Usage:   "deliveries in flight at once to any one target",
			Value:   16,
			Sources: cli.EnvVars("SWITCHBOARD_DELIVERY_TARGET_CONCURRENCY"),
		},
		&cli.DurationFlag{
			Name:    "target-disable-after",
			Usage:   "disable a delivery target that has failed continuously this long (0: never)",
			Value:   120 * time.Hour,
			Sources: cli.EnvVars("SWITCHBOARD_TARGET_DISABLE_AFTER"),
		},
		&cli.DurationFlag{
			Name:    "chat-inactivity-timeout",
			Usage:   "end a chat on a connection after this long without a message, telling the integration's target (0: never)",
			Value:   24 * time.Hour,
			Sources: cli.EnvVars("SWITCHBOARD_CHAT_INACTIVITY_TIMEOUT"),
		},
		&cli.DurationFlag{
			Name:    "transform-timeout",
			Usage:   "time limit of one run of a transform script",
			Value:   100 * time.Millisecond,
			Sources: cli.EnvVars("SWITCHBOARD_TRANSFORM_TIMEOUT"),
		},
		&cli.IntFlag{
			Name:    "transform-memory-mb",
			Usage:   "memory cap of each transform runner process, in MiB; a run that needs more fails",
			Value:   256,
			Sources: cli.EnvVars("SWITCHBOARD_TRANSFORM_MEMORY_MB"),
		},
		&cli.IntFlag{
			Name:    "transform-runners",
			Usage:   "number of transform runner processes (started on first use)",
			Value:   2,
			Sources: cli.EnvVars("SWITCHBOARD_TRANSFORM_RUNNERS"),
		},
		&cli.StringFlag{
			Name:    "debug-addr",
			Usage:   "serve Go pprof profiles on this address (off when empty; keep it on loopback)",
			Sources: cli.EnvVars("SWITCHBOARD_DEBUG_ADDR"),
		},
		&cli.IntFlag{
			Name:    "live-max-streams",
			Usage:   "live streams (website visitors waiting for replies) open at once in this process; more are refused with 503",
			Value:   DefaultLiveMaxStreams,
			Sources: cli.EnvVars("SWITCHBOARD_LIVE_MAX_STREAMS"),
		},
		&cli.IntFlag{
			Name:    "live-max-streams-per-integration",
			Usage:   "live streams open at once for any one integration in this process",
			Value:   DefaultLiveMaxStreamsPerIntegration,
			Sources: cli.EnvVars("SWITCHBOARD_LIVE_MAX_STREAMS_PER_INTEGRATION"),
		},
		&cli.DurationFlag{
			Name:    "delivery-timeout",
			Usage:   "time limit of one delivery attempt",
			Value:   30 * time.Second,
			Sources: cli.EnvVars("SWITCHBOARD_DELIVERY_TIMEOUT"),
		},
	)
}

// Load reads a Config from a command parsed with ServeFlags.
func Load(cmd *cli.Command) (*Config, error) {
	c := &Config{
		Addr:                cmd.String("addr"),
		DatabaseURL:         cmd.String("database-url"),
		PluginDir:           cmd.String("plugin-dir"),
		PublicURL:           strings.TrimRight(cmd.String("public-url"), "/"),
		AllowPrivateTargets: cmd.Bool("allow-private-targets"),
		LogFormat:           cmd.String("log-format"),
		ShutdownTimeout:     cmd.Duration("shutdown-timeout"),
		MaxBodyBytes:        int64(cmd.Int("max-body-bytes")),
		DeliveryConcurrency: cmd.Int("delivery-concurrency"),
		DeliveryTimeout:     cmd.Duration("delivery-timeout"),
		DebugAddr:           cmd.String("debug-addr"),

		DeliveryTargetConcurrency: cmd.Int("delivery-target-concurrency"),
		TargetDisableAfter:        cmd.Duration("target-disable-after"),
		ChatInactivityTimeout:     cmd.Duration("chat-inactivity-timeout"),
		TransformTimeout:          cmd.Duration("transform-timeout"),
		TransformMemoryMB:         cmd.Int("transform-memory-mb"),
		TransformRunners:          cmd.Int("transform-runners"),

		LiveMaxStreams:               cmd.Int("live-max-streams"),
		LiveMaxStreamsPerIntegration: cmd.Int("live-max-streams-per-integration"),
	}
	var err error
	if c.LogLevel, err = ParseLogLevel(cmd.String("log-level")); err != nil {
		return nil, err
	}
	if c.RetrySchedule, err = ParseRetrySchedule(cmd.String("retry-schedule")); err != nil {
		return nil, err
	}
	if c.PluginDir == "" {
		c.PluginDir = DefaultPluginDir()
	}
	return c, c.Validate()
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("config: --addr %q: %w", c.Addr, err)
	}
	if _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
		return err
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: --public-url %q must be an absolute http(s) URL", c.PublicURL)
		}
	}
	if len(c.RetrySchedule) == 0 {
		return errors.New("config: --retry-schedule needs at least one delay")
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("config: --max-body-bytes %d is below 1024", c.MaxBodyBytes)
	}
	if c.DeliveryConcurrency < 1 {
		return fmt.Errorf("config: --delivery-concurrency %d must be at least 1", c.DeliveryConcurrency)
	}
	if c.DeliveryTargetConcurrency < 1 {
		return fmt.Errorf("config: --delivery-target-concurrency %d must be at least 1", c.DeliveryTargetConcurrency)
	}
	if c.ChatInactivityTimeout < 0 {
		return fmt.Errorf("config: --chat-inactivity-timeout %s must not be negative", c.ChatInactivityTimeout)
	}
	if c.TargetDisableAfter < 0 {
		return fmt.Errorf("config: --target-disable-after %s must not be negative", c.TargetDisableAfter)
	}
	if c.TransformTimeout <= 0 || c.TransformTimeout > 10*time.Second {
		return fmt.Errorf("config: --transform-timeout %s must be between 0 and 10s", c.TransformTimeout)
	}
	if c.TransformMemoryMB < 32 || c.TransformMemoryMB > 16<<10 {
		return fmt.Errorf("config: --transform-memory-mb %d must be between 32 and 16384", c.TransformMemoryMB)
	}
	if c.TransformRunners < 1 || c.TransformRunners > 64 {
		return fmt.Errorf("config: --transform-runners %d must be between 1 and 64", c.TransformRunners)
	}
	if c.DeliveryTimeout <= 0 {
		return fmt.Errorf("config: --delivery-timeout %s must be positive", c.DeliveryTimeout)
	}
	if c.LiveMaxStreams < 0 || c.LiveMaxStreamsPerIntegration < 0 {
		return errors.New("config: --live-max-streams and --live-max-streams-per-integration must not be negative")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: --log-format %q must be text or json", c.LogFormat)
	}
	return nil
}

// DefaultPluginDir is plugins/ beside the running binary.
func DefaultPluginDir() string {
	exe, err := os.Executable()
	if err != nil {
		return filepath.Join("bin", "plugins")
	}
	return filepath.Join(filepath.Dir(exe), "plugins")
}

// ParseRetrySchedule parses "0s,5s,5m".
func ParseRetrySchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("config: --retry-schedule: %q is not a non-negative duration such as 5s or 2h", part)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("config: --retry-schedule needs at least one delay")
	}
	return out, nil
}

// ParseLogLevel parses a slog level name.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("config: --log-level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

// Database says which database a URL selects.
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// DSN is what the driver opens: a file path for SQLite, the URL for PostgreSQL.
	DSN string
}

// ParseDatabaseURL reads sqlite://PATH or postgres://….
func ParseDatabaseURL(s string) (Database, error) {
	switch {
	case strings.HasPrefix(s, "sqlite://"):
		path := strings.TrimPrefix(s, "sqlite://")
		if path == "" {
			return Database{}, fmt.Errorf("config: --database-url %q names no file", s)
		}
		return Database{Driver: "sqlite", DSN: path}, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return Database{}, errors.New("config: --database-url is not a valid postgres:// URL")
		}
		return Database{Driver: "postgres", DSN: s}, nil
	}
	return Database{}, errors.New("config: --database-url must start with sqlite:// or postgres://")
}

// NewLogger builds the process logger.
func NewLogger(level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
