package adminui

// workspaceRoutes registers the pages of connections, campaigns and auto-replies, teams, admin tokens and users.
func (u *UI) workspaceRoutes() {}
