package adminui

// operationRoutes registers the pages of deliveries, webhook subscriptions and plugin health.
func (u *UI) operationRoutes() {}
