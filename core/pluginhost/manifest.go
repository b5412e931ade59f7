package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// ManifestSuffix names a plugin's manifest: the executable's path and this.
const ManifestSuffix = ".manifest.json"

// Manifest is what an operator vouches for about a plugin executable: the
// kind it declares, its version and protocol, and the SHA-256 of the file.
// The hub starts an executable only when it matches its manifest, checked
// again before every restart.
type Manifest struct {
	Kind     string `json:"kind"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	SHA256   string `json:"sha256"`
}

// Errors of a plugin's manifest check.
var (
	ErrNoManifest       = errors.New("no manifest")
	ErrChecksumMismatch = errors.New("executable does not match its manifest's checksum")
)

// maxManifestBytes bounds a manifest file.
const maxManifestBytes = 64 << 10

// ReadManifest reads the manifest beside an executable.
func ReadManifest(exe string) (Manifest, error) {
	f, err := os.Open(exe + ManifestSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%w: write %s with `switchboard plugins manifest`", ErrNoManifest, exe+ManifestSuffix)
	}
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(f, maxManifestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s: %w", exe+ManifestSuffix, err)
	}
	if _, err := hex.DecodeString(m.SHA256); err != nil || len(m.SHA256) != sha256.Size*2 {
		return Manifest{}, fmt.Errorf("manifest %s: sha256 must be 64 hex digits", exe+ManifestSuffix)
	}
	if m.Kind == "" {
		return Manifest{}, fmt.Errorf("manifest %s: kind is missing", exe+ManifestSuffix)
	}
	return m, nil
}

// FileSHA256 is the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks an executable against its manifest.
func Verify(exe string) (Manifest, error) {
	m, err := ReadManifest(exe)
	if err != nil {
		return m, err
	}
	sum, err := FileSHA256(exe)
	if err != nil {
		return m, err
	}
	if !strings.EqualFold(sum, m.SHA256) {
		return m, ErrChecksumMismatch
	}
	return m, nil
}

// WriteManifest starts the plugin once, asks what it declares, and writes
// its manifest with the executable's checksum: what an operator runs
// after installing or building a plugin they trust.
func WriteManifest(ctx context.Context, exe string, log *slog.Logger) (Manifest, error) {
	sum, err := FileSHA256(exe)
	if err != nil {
		return Manifest{}, err
	}
	h := New("", log)
	p, err := h.start(ctx, exe, nil)
	if err != nil {
		return Manifest{}, err
	}
	p.client.Kill()
	m := Manifest{Kind: p.info.Kind, Version: p.info.Version, Protocol: p.protocol, SHA256: sum}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	if err := os.WriteFile(exe+ManifestSuffix, append(b, '\n'), 0o644); err != nil {
		return Manifest{}, err
	}
	return m, nil
}
