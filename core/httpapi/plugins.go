package httpapi

import (
	"net/http"
	"path/filepath"

	"github.com/gin-gonic/gin"
)

type pluginResponse struct {
	Name     string `json:"name"`
	Kind     string `json:"kind,omitempty"`
	Version  string `json:"version,omitempty"`
	Channel  string `json:"channel,omitempty"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
	Error    string `json:"error,omitempty"`
}

// listPlugins shows the installed plugins and their health: running,
// restarting (its process died and is being started again), or refused
// (it never started: no manifest, a checksum mismatch, a hung handshake).
// Paths and process ids stay out: they describe the host, not the workspace.
func (s *Server) listPlugins(c *gin.Context) {
	out := []pluginResponse{}
	for _, p := range s.Plugins.Plugins() {
		r := pluginResponse{Name: filepath.Base(p.Path), Kind: p.Kind, Version: p.Version, Restarts: p.Restarts, Error: p.Error}
		if info, ok := s.Plugins.Info(p.Kind); ok {
			r.Channel = info.Channel
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
