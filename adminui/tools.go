package adminui

// toolRoutes registers the pages of API details with Try Out, recent events and the transform editor of an integration.
func (u *UI) toolRoutes() {}
