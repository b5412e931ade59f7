package adminui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/core/domain"
)

// operationRoutes registers the pages of deliveries, webhook subscriptions and plugin health.
func (u *UI) operationRoutes() {
	u.mux.Handle("GET /deliveries", u.page(staff, u.listDeliveries))
	u.mux.Handle("POST /deliveries/retry", u.page(staff, u.retryDeliveries))
	u.mux.Handle("GET /deliveries/{id}", u.page(staff, u.showDelivery))
	u.mux.Handle("POST /deliveries/{id}/retry", u.page(staff, u.retryDelivery))

	u.mux.Handle("GET /subscriptions", u.page(staff, u.listSubscriptions))
	u.mux.Handle("GET /subscriptions/new", u.page(staff, u.newSubscription))
	u.mux.Handle("POST /subscriptions", u.page(staff, u.createSubscription))
	u.mux.Handle("GET /subscriptions/{id}/edit", u.page(staff, u.editSubscription))
	u.mux.Handle("POST /subscriptions/{id}", u.page(staff, u.updateSubscription))
	u.mux.Handle("POST /subscriptions/{id}/enable", u.page(staff, u.setSubscriptionEnabled(true)))
	u.mux.Handle("POST /subscriptions/{id}/disable", u.page(staff, u.setSubscriptionEnabled(false)))
	u.mux.Handle("POST /subscriptions/{id}/delete", u.page(staff, u.deleteSubscription))

	u.mux.Handle("GET /plugins", u.page(staff, u.listPlugins))
}

// deliveryStatuses are the states a delivery filter may choose.
var deliveryStatuses = []string{domain.DeliveryPending, domain.DeliverySucceeded, domain.DeliveryFailed, domain.DeliveryDead, domain.DeliverySkipped}

// deliveryInfo is the admin API's view of a delivery.
type deliveryInfo struct {
	ID             string        `json:"id"`
	IntegrationID  string        `json:"integrationId"`
	SubscriptionID string        `json:"subscriptionId"`
	Target         string        `json:"target"`
	EventType      string        `json:"eventType"`
	Status         string        `json:"status"`
	AttemptCount   int           `json:"attemptCount"`
	NextAttemptAt  *time.Time    `json:"nextAttemptAt"`
	LastError      string        `json:"lastError"`
	CreatedAt      time.Time     `json:"createdAt"`
	Attempts       []attemptInfo `json:"attempts"`
}

// attemptInfo is one try at a delivery.
type attemptInfo struct {
	N               int       `json:"n"`
	StatusCode      int       `json:"statusCode"`
	DurationMs      int64     `json:"durationMs"`
	Error           string    `json:"error"`
	ResponseExcerpt string    `json:"responseExcerpt"`
	Logs            []string  `json:"logs"`
	At              time.Time `json:"at"`
}

// Retryable reports whether the delivery may be retried by hand.
func (d deliveryInfo) Retryable() bool {
	return d.Status == domain.DeliveryDead || d.Status == domain.DeliveryFailed
}

// deliveryFilter is what the list of deliveries is narrowed to.
type deliveryFilter struct {
	IntegrationID   string
	IntegrationName string
	Status          string
}

// query is the filter as a query string, with a cursor when given.
func (f deliveryFilter) query(cursor string) url.Values {
	q := url.Values{}
	if f.IntegrationID != "" {
		q.Set("integrationId", f.IntegrationID)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q
}

func (u *UI) listDeliveries(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	q := r.URL.Query()
	f := deliveryFilter{IntegrationID: q.Get("integrationId"), Status: q.Get("status")}
	if f.Status != "" && !slices.Contains(deliveryStatuses, f.Status) {
		u.renderError(w, r, s, http.StatusBadRequest, "status must be one of "+strings.Join(deliveryStatuses, ", ")+".")
		return
	}
	var ins struct {
		Integrations []integration `json:"integrations"`
	}
	if err := u.call(r, s, "GET", "/api/integrations?limit=500", nil, &ins); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	names := map[string]string{}
	for _, in := range ins.Integrations {
		names[in.ID] = in.Name
	}
	if f.IntegrationID != "" {
		name, ok := names[f.IntegrationID]
		if !ok {
			// Not among the newest 500, or not this workspace's: the API says which.
			in, err := u.getIntegration(r, s, f.IntegrationID)
			if err != nil {
				u.apiFail(w, r, s, err)
				return
			}
			name = in.Name
			ins.Integrations = append(ins.Integrations, in)
			names[in.ID] = in.Name
		}
		f.IntegrationName = name
	}
	api := f.query(q.Get("cursor"))
	api.Set("limit", "50")
	var list struct {
		Deliveries []deliveryInfo `json:"deliveries"`
		NextCursor string         `json:"nextCursor"`
	}
	if err := u.call(r, s, "GET", "/api/deliveries?"+api.Encode(), nil, &list); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	refresh := f.query(q.Get("cursor"))
	refresh.Set("fragment", "list")
	data := map[string]any{
		"Deliveries":   list.Deliveries,
		"Filter":       f,
		"Statuses":     deliveryStatuses,
		"Integrations": ins.Integrations,
		"Names":        names,
		"Refresh":      "/deliveries?" + refresh.Encode(),
		"Retried":      q.Get("retried"),
	}
	if list.NextCursor != "" {
		data["More"] = "/deliveries?" + f.query(list.NextCursor).Encode()
	}
	u.render(w, r, s, http.StatusOK, "deliveries", data)
}

// retryDeliveries retries every dead and failed delivery of an integration.
func (u *UI) retryDeliveries(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	f := deliveryFilter{IntegrationID: r.PostFormValue("integrationId"), Status: r.PostFormValue("status")}
	req := map[string]any{"integrationId": f.IntegrationID}
	if f.Status == domain.DeliveryDead || f.Status == domain.DeliveryFailed {
		req["status"] = f.Status
	}
	var out struct {
		Retried int `json:"retried"`
	}
	if err := u.call(r, s, "POST", "/api/deliveries/retry", req, &out); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	q := f.query("")
	q.Set("retried", strconv.Itoa(out.Retried))
	http.Redirect(w, r, "/deliveries?"+q.Encode(), http.StatusSeeOther)
}

func (u *UI) deliveryPage(w http.ResponseWriter, r *http.Request, s *domain.Session, status int, id string, notice map[string]string) {
	var d deliveryInfo
	if err := u.call(r, s, "GET", "/api/deliveries/"+url.PathEscape(id), nil, &d); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	data := map[string]any{"Delivery": d, "Notice": notice}
	if d.IntegrationID != "" {
		// A deleted integration leaves its deliveries: show its id alone then.
		if in, err := u.getIntegration(r, s, d.IntegrationID); err == nil {
			data["IntegrationName"] = in.Name
		}
	}
	u.render(w, r, s, status, "deliveries-show", data)
}

func (u *UI) showDelivery(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	var notice map[string]string
	if r.URL.Query().Get("done") == "retried" {
		notice = map[string]string{"Kind": "ok", "Text": "Retry scheduled: the delivery is attempted again now."}
	}
	u.deliveryPage(w, r, s, http.StatusOK, r.PathValue("id"), notice)
}

func (u *UI) retryDelivery(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id := r.PathValue("id")
	err := u.call(r, s, "POST", "/api/deliveries/"+url.PathEscape(id)+"/retry", nil, nil)
	if ae, ok := err.(*apiError); ok && ae.Status == http.StatusConflict {
		u.deliveryPage(w, r, s, http.StatusConflict, id, map[string]string{"Kind": "error", "Text": ae.Message})
		return
	}
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/deliveries/"+url.PathEscape(id)+"?done=retried", http.StatusSeeOther)
}

// subscriptionInfo is the admin API's view of a webhook subscription.
// Header values arrive masked ("********"): the API never returns them.
type subscriptionInfo struct {
	ID               string      `json:"id"`
	URL              string      `json:"url"`
	Enabled          bool        `json:"enabled"`
	SubscribedEvents []string    `json:"subscribedEvents"`
	ExtraHeaders     []headerRow `json:"extraHeaders"`
	Format           string      `json:"format"`
	DisabledReason   string      `json:"disabledReason"`
	CreatedAt        time.Time   `json:"createdAt"`
	UpdatedAt        time.Time   `json:"updatedAt"`
	Secret           string      `json:"secret"`
}

// headerRow is one extra header of a subscription.
type headerRow struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// subscriptionEvents are the events a subscription may choose.
var subscriptionEvents = []string{domain.SubscribeMessages, domain.SubscribeTransfers}

// subscriptionForm is what the create and edit pages show.
type subscriptionForm struct {
	Editing bool
	ID      string
	URL     string
	Enabled bool
	Events  map[string]bool
	Headers []headerRow
	Format  string
	// DisabledReason says why the hub disabled the subscription, if it did.
	DisabledReason string
	Errors         *formErrors
}

// AllEvents are the events the form offers.
func (subscriptionForm) AllEvents() []string { return subscriptionEvents }

func subscriptionFormOf(sub subscriptionInfo) *subscriptionForm {
	f := &subscriptionForm{Editing: true, ID: sub.ID, URL: sub.URL, Enabled: sub.Enabled, Events: map[string]bool{},
		Headers: sub.ExtraHeaders, Format: sub.Format, DisabledReason: sub.DisabledReason}
	for _, e := range sub.SubscribedEvents {
		f.Events[e] = true
	}
	return f
}

// subscriptionFormFrom reads a posted form. Header rows with neither a
// name nor a value are dropped.
func subscriptionFormFrom(form url.Values) *subscriptionForm {
	f := &subscriptionForm{URL: strings.TrimSpace(form.Get("url")), Enabled: form.Get("enabled") != "",
		Events: map[string]bool{}, Format: form.Get("format")}
	for _, e := range form["subscribedEvents"] {
		f.Events[e] = true
	}
	names, values := form["headers.name"], form["headers.value"]
	for i := range names {
		h := headerRow{Name: strings.TrimSpace(names[i])}
		if i < len(values) {
			h.Value = values[i]
		}
		if h.Name == "" && h.Value == "" {
			continue
		}
		f.Headers = append(f.Headers, h)
	}
	return f
}

// request is the body the API gets: every field, so an edit sets them all.
func (f *subscriptionForm) request() map[string]any {
	events := []string{}
	for _, e := range subscriptionEvents {
		if f.Events[e] {
			events = append(events, e)
		}
	}
	// An event the form does not offer is passed on for the API to refuse.
	for e := range f.Events {
		if !slices.Contains(subscriptionEvents, e) {
			events = append(events, e)
		}
	}
	headers := f.Headers
	if headers == nil {
		headers = []headerRow{}
	}
	return map[string]any{"url": f.URL, "enabled": f.Enabled, "subscribedEvents": events, "extraHeaders": headers, "format": f.Format}
}

func (u *UI) subscriptionList(w http.ResponseWriter, r *http.Request, s *domain.Session, status int, extra map[string]any) {
	path := "/api/webhooks/?limit=100"
	if c := r.URL.Query().Get("cursor"); c != "" {
		path += "&cursor=" + url.QueryEscape(c)
	}
	var list struct {
		Webhooks   []subscriptionInfo `json:"webhooks"`
		NextCursor string             `json:"nextCursor"`
	}
	if err := u.call(r, s, "GET", path, nil, &list); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	data := map[string]any{"Subscriptions": list.Webhooks, "Next": list.NextCursor}
	for k, v := range extra {
		data[k] = v
	}
	u.render(w, r, s, status, "subscriptions", data)
}

func (u *UI) listSubscriptions(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	notices := map[string]string{"saved": "Saved.", "enabled": "Enabled.", "disabled": "Disabled: nothing is delivered to it until it is enabled again.", "deleted": "Deleted."}
	u.subscriptionList(w, r, s, http.StatusOK, map[string]any{"Notice": notices[r.URL.Query().Get("done")]})
}

func (u *UI) newSubscription(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	f := &subscriptionForm{Enabled: true, Events: map[string]bool{domain.SubscribeMessages: true}}
	u.render(w, r, s, http.StatusOK, "subscriptions-form", f)
}

func (u *UI) createSubscription(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	f := subscriptionFormFrom(r.PostForm)
	var sub subscriptionInfo
	if err := u.call(r, s, "POST", "/api/webhooks/", f.request(), &sub); err != nil {
		u.subscriptionRefused(w, r, s, f, err)
		return
	}
	// The signing secret is in this answer only: show it now, never again.
	u.subscriptionList(w, r, s, http.StatusCreated, map[string]any{"Notice": "Created.", "Created": sub.ID,
		"Secret": map[string]string{"Name": "secret", "Label": "Signing secret of " + sub.URL, "Value": sub.Secret}})
}

// subscriptionRefused shows the form again with the API's refusal beside
// its field, or the refusal as a page when it is not about the form.
func (u *UI) subscriptionRefused(w http.ResponseWriter, r *http.Request, s *domain.Session, f *subscriptionForm, err error) {
	if ae, ok := err.(*apiError); ok && (ae.Status == http.StatusUnprocessableEntity || ae.Status == http.StatusBadRequest) {
		fe, _ := errorsOf(err)
		f.Errors = fe
		u.render(w, r, s, ae.Status, "subscriptions-form", f)
		return
	}
	u.apiFail(w, r, s, err)
}

func (u *UI) getSubscription(r *http.Request, s *domain.Session, id string) (subscriptionInfo, error) {
	var sub subscriptionInfo
	err := u.call(r, s, "GET", "/api/webhooks/"+url.PathEscape(id), nil, &sub)
	return sub, err
}

func (u *UI) editSubscription(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	sub, err := u.getSubscription(r, s, r.PathValue("id"))
	if err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	u.render(w, r, s, http.StatusOK, "subscriptions-form", subscriptionFormOf(sub))
}

func (u *UI) updateSubscription(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	id := r.PathValue("id")
	f := subscriptionFormFrom(r.PostForm)
	f.Editing, f.ID = true, id
	if err := u.call(r, s, "POST", "/api/webhooks/"+url.PathEscape(id)+"/update", f.request(), nil); err != nil {
		u.subscriptionRefused(w, r, s, f, err)
		return
	}
	http.Redirect(w, r, "/subscriptions?done=saved#subscription-"+url.PathEscape(id), http.StatusSeeOther)
}

func (u *UI) setSubscriptionEnabled(enabled bool) handler {
	done := "disabled"
	if enabled {
		done = "enabled"
	}
	return func(w http.ResponseWriter, r *http.Request, s *domain.Session) {
		id := r.PathValue("id")
		if err := u.call(r, s, "POST", "/api/webhooks/"+url.PathEscape(id)+"/update", map[string]any{"enabled": enabled}, nil); err != nil {
			u.apiFail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/subscriptions?done="+done+"#subscription-"+url.PathEscape(id), http.StatusSeeOther)
	}
}

func (u *UI) deleteSubscription(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	if err := u.call(r, s, "POST", "/api/webhooks/"+url.PathEscape(r.PathValue("id"))+"/delete", nil, nil); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/subscriptions?done=deleted", http.StatusSeeOther)
}

// pluginStates counts the plugins in each state.
type pluginStates struct {
	Running, Restarting, Refused int
}

// Healthy reports whether every plugin runs.
func (p pluginStates) Healthy() bool { return p.Restarting == 0 && p.Refused == 0 }

func (u *UI) listPlugins(w http.ResponseWriter, r *http.Request, s *domain.Session) {
	var list struct {
		Plugins []pluginInfo `json:"plugins"`
	}
	if err := u.call(r, s, "GET", "/api/plugins", nil, &list); err != nil {
		u.apiFail(w, r, s, err)
		return
	}
	var n pluginStates
	for _, p := range list.Plugins {
		switch p.State {
		case "running":
			n.Running++
		case "restarting":
			n.Restarting++
		default:
			n.Refused++
		}
	}
	u.render(w, r, s, http.StatusOK, "plugins", map[string]any{"Plugins": list.Plugins, "States": n, "CheckedAt": time.Now()})
}
