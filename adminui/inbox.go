package adminui

// inboxRoutes registers the pages of the conversations inbox.
func (u *UI) inboxRoutes() {}
