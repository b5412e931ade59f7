package httpapi

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
)

type pluginResponse struct {
	Name        string `json:"name"`
	Kind        string `json:"kind,omitempty"`
	Version     string `json:"version,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Channel     string `json:"channel,omitempty"`
	State       string `json:"state"`
	Restarts    int    `json:"restarts"`
	Error       string `json:"error,omitempty"`
	// ConfigSchema is the JSON Schema of the kind's settings (an
	// integration's config, or a connection's provider settings).
	ConfigSchema json.RawMessage `json:"configSchema,omitempty"`
	// Auth says who authenticates the kind's inbound traffic: api_key (the
	// hub, with the integration's inbound API key), signature (the plugin,
	// with the provider's signature) or public (no one).
	Auth string `json:"auth,omitempty"`
}

// listPlugins shows the installed plugins and their health: running,
// restarting (its process died and is being started again), or refused
// (it never started: no manifest, a checksum mismatch, a hung handshake).
// Paths and process ids stay out: they describe the host, not the workspace.
func (s *Server) listPlugins(c *gin.Context) {
	out := []pluginResponse{}
	for _, p := range s.Plugins.Plugins() {
		r := pluginResponse{Name: filepath.Base(p.Path), Kind: p.Kind, Version: p.Version, Restarts: p.Restarts,
			// The host's error names the executable by its path: name it as Name does.
			Error: strings.ReplaceAll(p.Error, p.Path, filepath.Base(p.Path))}
		if info, ok := s.Plugins.Info(p.Kind); ok {
			r.Channel, r.DisplayName, r.Auth = info.Channel, info.DisplayName, string(info.AuthMode())
			if json.Valid([]byte(info.ConfigSchema)) {
				r.ConfigSchema = json.RawMessage(info.ConfigSchema)
			}
		}
		switch {
		case p.Error != "":
			r.State = "refused"
		case p.Running:
			r.State = "running"
		default:
			r.State = "restarting"
		}
		out = append(out, r)
	}
	c.JSON(http.StatusOK, gin.H{"plugins": out})
}
