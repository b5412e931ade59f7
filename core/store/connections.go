package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboardhq/switchboard/core/domain"
)

type connectionRow struct {
	ID          string
	WorkspaceID string
	Code        string
	Channel     string
	Sender      string
	Route       string
	Provider    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (connectionRow) TableName() string { return "connections" }

func (r *connectionRow) domain() domain.Connection {
	return domain.Connection{ID: r.ID, WorkspaceID: r.WorkspaceID, Code: r.Code, Channel: r.Channel, Sender: r.Sender,
		Route: r.Route, Provider: json.RawMessage(r.Provider), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type integrationConnectionRow struct {
	IntegrationID  string
	ConnectionCode string
	WorkspaceID    string
	Position       int
	Status         string
	Error          string
	UpdatedAt      time.Time
}

func (integrationConnectionRow) TableName() string { return "integration_connections" }

type senderBindingRow struct {
	WorkspaceID   string
	Channel       string
	Sender        string
	IntegrationID string
	ConnectionID  string
	CreatedAt     time.Time
}

func (senderBindingRow) TableName() string { return "sender_bindings" }

// ErrInUse refuses to delete a connection an active integration uses.
var ErrInUse = errors.New("in use")

// CreateConnection stores a connection; a code already used in the
// workspace is ErrConflict.
func (s *Store) CreateConnection(ctx context.Context, c domain.Connection) (domain.Connection, error) {
	t := now()
	row := connectionRow{ID: NewID(), WorkspaceID: c.WorkspaceID, Code: c.Code, Channel: c.Channel, Sender: c.Sender,
		Route: c.Route, Provider: string(c.Provider), CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return domain.Connection{}, ErrConflict
		}
		return domain.Connection{}, fmt.Errorf("store: create connection: %w", err)
	}
	return row.domain(), nil
}

// Connections lists a workspace's connections, newest first.
func (s *Store) Connections(ctx context.Context, workspaceID string, page domain.Page) ([]domain.Connection, string, error) {
	q := s.db.WithContext(ctx).Model(&connectionRow{}).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *connectionRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list connections: %w", err)
	}
	out := make([]domain.Connection, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// Connection returns one connection of a workspace.
func (s *Store) Connection(ctx context.Context, workspaceID, id string) (domain.Connection, error) {
	var row connectionRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Connection{}, notFound("fetch connection "+id, err)
	}
	return row.domain(), nil
}

// ConnectionByID returns a connection whatever its workspace: provider
// traffic names the connection alone.
func (s *Store) ConnectionByID(ctx context.Context, id string) (domain.Connection, error) {
	var row connectionRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.Connection{}, notFound("fetch connection "+id, err)
	}
	return row.domain(), nil
}

// ConnectionByCode returns a workspace's connection by its code.
func (s *Store) ConnectionByCode(ctx context.Context, workspaceID, code string) (domain.Connection, error) {
	var row connectionRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND code = ?", workspaceID, code).Take(&row).Error; err != nil {
		return domain.Connection{}, notFound("fetch connection "+code, err)
	}
	return row.domain(), nil
}

// DeleteConnection removes a connection; while an active integration uses
// it, it is ErrInUse.
func (s *Store) DeleteConnection(ctx context.Context, workspaceID, id string) error {
	return s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
			return err
		}
		var conn connectionRow
		if err := tx.Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&conn).Error; err != nil {
			return notFound("fetch connection "+id, err)
		}
		var n int64
		if err := tx.Model(&integrationConnectionRow{}).Where("workspace_id = ? AND connection_code = ? AND status = ?",
			workspaceID, conn.Code, domain.ConnectionActive).Count(&n).Error; err != nil {
			return fmt.Errorf("store: delete connection: %w", err)
		}
		if n > 0 {
			return ErrInUse
		}
		res := tx.Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&connectionRow{})
		if res.Error != nil {
			return fmt.Errorf("store: delete connection: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// ConnectionOwner returns the active integration that holds a connection's
// sender and has the connection itself active; ErrNotFound when none does.
func (s *Store) ConnectionOwner(ctx context.Context, conn domain.Connection) (string, error) {
	var row senderBindingRow
	err := s.db.WithContext(ctx).Where("workspace_id = ? AND channel = ? AND sender = ?", conn.WorkspaceID, conn.Channel, conn.Sender).Take(&row).Error
	if err != nil {
		return "", notFound("find connection owner", err)
	}
	var n int64
	err = s.db.WithContext(ctx).Model(&integrationConnectionRow{}).Where("integration_id = ? AND connection_code = ? AND status = ?",
		row.IntegrationID, conn.Code, domain.ConnectionActive).Count(&n).Error
	if err != nil {
		return "", fmt.Errorf("store: find connection owner: %w", err)
	}
	if n == 0 {
		return "", ErrNotFound
	}
	return row.IntegrationID, nil
}

// IntegrationsListing returns, up to limit, the integrations that list a
// connection code, for recording what became of traffic nobody owns.
func (s *Store) IntegrationsListing(ctx context.Context, workspaceID, code string, limit int) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&integrationConnectionRow{}).
		Where("workspace_id = ? AND connection_code = ?", workspaceID, code).
		Order("integration_id DESC").Limit(limit).Pluck("integration_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: integrations listing %s: %w", code, err)
	}
	return ids, nil
}

// setIntegrationConnections replaces an integration's list of connection
// codes. Codes kept keep their state; a code dropped releases its sender.
func setIntegrationConnections(tx *gorm.DB, workspaceID, integrationID string, codes []string) error {
	var rows []integrationConnectionRow
	if err := tx.Where("integration_id = ?", integrationID).Find(&rows).Error; err != nil {
		return err
	}
	t := now()
	for _, r := range rows {
		if slices.Contains(codes, r.ConnectionCode) {
			continue
		}
		if err := tx.Where("integration_id = ? AND connection_code = ?", integrationID, r.ConnectionCode).
			Delete(&integrationConnectionRow{}).Error; err != nil {
			return err
		}
		if r.Status == domain.ConnectionActive {
			var conn connectionRow
			err := tx.Where("workspace_id = ? AND code = ?", workspaceID, r.ConnectionCode).Take(&conn).Error
			if err == nil {
				err = tx.Where("integration_id = ? AND connection_id = ?", integrationID, conn.ID).Delete(&senderBindingRow{}).Error
			}
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
	}
	for i, code := range codes {
		row := integrationConnectionRow{IntegrationID: integrationID, ConnectionCode: code, WorkspaceID: workspaceID,
			Position: i, Status: domain.ConnectionInactive, UpdatedAt: t}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "integration_id"}, {Name: "connection_code"}},
			DoUpdates: clause.Assignments(map[string]any{"position": i}),
		}).Create(&row).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// IntegrationConnections returns each listed connection's state, by
// integration id, in the order the admin listed them.
func (s *Store) IntegrationConnections(ctx context.Context, workspaceID string, integrationIDs []string) (map[string][]domain.ConnectionState, error) {
	out := map[string][]domain.ConnectionState{}
	if len(integrationIDs) == 0 {
		return out, nil
	}
	var rows []integrationConnectionRow
	err := s.db.WithContext(ctx).Where("workspace_id = ? AND integration_id IN ?", workspaceID, integrationIDs).
		Order("integration_id, position").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: integration connections: %w", err)
	}
	var codes []string
	for _, r := range rows {
		codes = append(codes, r.ConnectionCode)
	}
	conns := map[string]connectionRow{}
	if len(codes) > 0 {
		var cs []connectionRow
		if err := s.db.WithContext(ctx).Where("workspace_id = ? AND code IN ?", workspaceID, codes).Find(&cs).Error; err != nil {
			return nil, fmt.Errorf("store: integration connections: %w", err)
		}
		for _, c := range cs {
			conns[c.Code] = c
		}
	}
	for _, r := range rows {
		c := conns[r.ConnectionCode]
		out[r.IntegrationID] = append(out[r.IntegrationID], domain.ConnectionState{
			Code: r.ConnectionCode, ConnectionID: c.ID, Channel: c.Channel, Sender: c.Sender, Status: r.Status, Error: r.Error})
	}
	return out, nil
}

// Activation is what starting an integration decided for one connection.
type Activation struct {
	State domain.ConnectionState
}

// ActivationRules decide, inside the start's transaction, whether a
// connection may be activated; they return the reason it may not, or "".
type ActivationRules interface {
	Refuse(ctx context.Context, q ActivationQueries, conn *domain.Connection) (string, error)
}

// ActivationQueries are the reads the activation rules need, answered
// inside the start's transaction.
type ActivationQueries interface {
	// LiveCampaignsUsing returns the live campaigns that use a sender.
	LiveCampaignsUsing(ctx context.Context, sender string) ([]domain.Campaign, error)
	// ActiveAutoReplyOn reports whether an active auto-reply answers on a
	// sender of a channel.
	ActiveAutoReplyOn(ctx context.Context, channel, sender string) (bool, error)
}

// ErrNoneActivated is returned by StartIntegration when the integration
// lists connections and none could be activated; it stays inactive.
var ErrNoneActivated = errors.New("no connection could be activated")

// StartIntegration activates an integration and evaluates each of its
// connections on its own: rules may refuse one, and a sender already held
// by another active integration is refused. Connections already active stay
// so. With no connection active the integration stays inactive and the
// error is ErrNoneActivated; the states are returned either way, and kept.
func (s *Store) StartIntegration(ctx context.Context, workspaceID, id string, rules ActivationRules) (domain.Integration, []domain.ConnectionState, error) {
	var states []domain.ConnectionState
	var none bool
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
			return err
		}
		var in integrationRow
		if err := tx.Where("deleted_at IS NULL AND workspace_id = ? AND id = ?", workspaceID, id).Take(&in).Error; err != nil {
			return notFound("fetch integration "+id, err)
		}
		var rows []integrationConnectionRow
		if err := tx.Where("integration_id = ?", id).Order("position").Find(&rows).Error; err != nil {
			return err
		}
		q := &activationTx{tx: tx, workspaceID: workspaceID}
		t := now()
		active := 0
		for _, r := range rows {
			st, err := s.activate(ctx, tx, q, rules, &in, &r)
			if err != nil {
				return err
			}
			if st.Status == domain.ConnectionActive {
				active++
			}
			if err := tx.Model(&integrationConnectionRow{}).Where("integration_id = ? AND connection_code = ?", id, r.ConnectionCode).
				Updates(map[string]any{"status": st.Status, "error": st.Error, "updated_at": t}).Error; err != nil {
				return err
			}
			states = append(states, st)
		}
		if len(rows) > 0 && active == 0 {
			none = true
			return nil
		}
		return tx.Model(&integrationRow{}).Where("id = ?", id).
			Updates(map[string]any{"status": domain.StatusActive, "updated_at": t}).Error
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return domain.Integration{}, nil, ErrNotFound
		}
		return domain.Integration{}, nil, fmt.Errorf("store: start integration %s: %w", id, err)
	}
	in, err := s.Integration(ctx, workspaceID, id)
	if err != nil {
		return domain.Integration{}, nil, err
	}
	if none {
		return in, states, ErrNoneActivated
	}
	return in, states, nil
}

func (s *Store) activate(ctx context.Context, tx *gorm.DB, q ActivationQueries, rules ActivationRules, in *integrationRow, r *integrationConnectionRow) (domain.ConnectionState, error) {
	st := domain.ConnectionState{Code: r.ConnectionCode, Status: domain.ConnectionInactive}
	var conn connectionRow
	err := tx.Where("workspace_id = ? AND code = ?", in.WorkspaceID, r.ConnectionCode).Take(&conn).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		st.Error = fmt.Sprintf("no connection with code %q in this workspace", r.ConnectionCode)
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.ConnectionID, st.Channel, st.Sender = conn.ID, conn.Channel, conn.Sender
	var holder senderBindingRow
	err = tx.Where("workspace_id = ? AND channel = ? AND sender = ?", in.WorkspaceID, conn.Channel, conn.Sender).Take(&holder).Error
	switch {
	case err == nil && holder.IntegrationID != in.ID:
		var other integrationRow
		tx.Select("name").Where("id = ?", holder.IntegrationID).Take(&other)
		st.Error = fmt.Sprintf("sender %s is already active on integration %q (%s)", conn.Sender, other.Name, holder.IntegrationID)
		return st, nil
	case err == nil:
		// Held by this integration already: a restart, or a second connection of one sender.
		st.Status = domain.ConnectionActive
		return st, nil
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return st, err
	}
	d := conn.domain()
	reason, err := rules.Refuse(ctx, q, &d)
	if err != nil {
		return st, err
	}
	if reason != "" {
		st.Error = reason
		return st, nil
	}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&senderBindingRow{WorkspaceID: in.WorkspaceID, Channel: conn.Channel,
		Sender: conn.Sender, IntegrationID: in.ID, ConnectionID: conn.ID, CreatedAt: now()})
	if res.Error != nil {
		return st, res.Error
	}
	if res.RowsAffected == 0 {
		st.Error = fmt.Sprintf("sender %s is already active on another integration", conn.Sender)
		return st, nil
	}
	st.Status = domain.ConnectionActive
	return st, nil
}

// ErrLiveCampaigns refuses to stop an integration that live campaigns use.
type ErrLiveCampaigns struct{ Names []string }

func (e *ErrLiveCampaigns) Error() string {
	return fmt.Sprintf("live campaigns use the integration: %q", e.Names)
}

// StopIntegration makes an integration inactive and releases its senders.
// While live campaigns link it, it is refused with *ErrLiveCampaigns.
func (s *Store) StopIntegration(ctx context.Context, workspaceID, id string) (domain.Integration, error) {
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
			return err
		}
		var in integrationRow
		if err := tx.Where("deleted_at IS NULL AND workspace_id = ? AND id = ?", workspaceID, id).Take(&in).Error; err != nil {
			return notFound("fetch integration "+id, err)
		}
		if err := refuseLiveCampaigns(tx, workspaceID, id); err != nil {
			return err
		}
		return releaseIntegration(tx, id)
	})
	var lc *ErrLiveCampaigns
	if errors.As(err, &lc) {
		return domain.Integration{}, lc
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return domain.Integration{}, ErrNotFound
		}
		return domain.Integration{}, fmt.Errorf("store: stop integration %s: %w", id, err)
	}
	return s.Integration(ctx, workspaceID, id)
}

// refuseLiveCampaigns returns *ErrLiveCampaigns while live campaigns link
// the integration.
func refuseLiveCampaigns(tx *gorm.DB, workspaceID, integrationID string) error {
	var live []campaignRow
	if err := tx.Where("workspace_id = ? AND integration_id = ? AND status = ?", workspaceID, integrationID, domain.CampaignLive).
		Order("id").Find(&live).Error; err != nil {
		return err
	}
	if len(live) == 0 {
		return nil
	}
	e := &ErrLiveCampaigns{}
	for _, c := range live {
		e.Names = append(e.Names, c.Name)
	}
	return e
}

// releaseIntegration makes an integration inactive and frees its senders.
func releaseIntegration(tx *gorm.DB, id string) error {
	t := now()
	if err := tx.Where("integration_id = ?", id).Delete(&senderBindingRow{}).Error; err != nil {
		return err
	}
	if err := tx.Model(&integrationConnectionRow{}).Where("integration_id = ?", id).
		Updates(map[string]any{"status": domain.ConnectionInactive, "error": "", "updated_at": t}).Error; err != nil {
		return err
	}
	return tx.Model(&integrationRow{}).Where("id = ?", id).
		Updates(map[string]any{"status": domain.StatusInactive, "updated_at": t}).Error
}

// activationTx answers the activation rules' reads inside the start's
// transaction. The workspace's live campaigns are read once per start.
type activationTx struct {
	tx          *gorm.DB
	workspaceID string
	live        []domain.Campaign
	liveRead    bool
}

func (q *activationTx) LiveCampaignsUsing(ctx context.Context, sender string) ([]domain.Campaign, error) {
	if !q.liveRead {
		var rows []campaignRow
		if err := q.tx.WithContext(ctx).Where("workspace_id = ? AND status = ? AND senders <> '[]'", q.workspaceID, domain.CampaignLive).
			Order("id").Find(&rows).Error; err != nil {
			return nil, err
		}
		for i := range rows {
			q.live = append(q.live, rows[i].domain())
		}
		q.liveRead = true
	}
	var out []domain.Campaign
	for _, c := range q.live {
		if slices.Contains(c.Senders, sender) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (q *activationTx) ActiveAutoReplyOn(ctx context.Context, channel, sender string) (bool, error) {
	var n int64
	err := q.tx.WithContext(ctx).Table("auto_replies AS a").
		Joins("JOIN connections c ON c.workspace_id = a.workspace_id AND c.code = a.connection_code").
		Where("a.workspace_id = ? AND a.active = ? AND c.channel = ? AND c.sender = ?", q.workspaceID, true, channel, sender).
		Count(&n).Error
	return n > 0, err
}
