package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

type campaignRow struct {
	ID            string
	WorkspaceID   string
	Name          string
	Type          string
	IntegrationID string
	Senders       string
	Status        string
	IntegratedAt  *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (campaignRow) TableName() string { return "campaigns" }

func (r *campaignRow) domain() domain.Campaign {
	c := domain.Campaign{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Type: r.Type, IntegrationID: r.IntegrationID,
		Status: r.Status, IntegratedAt: utcPtr(r.IntegratedAt), CreatedAt: r.CreatedAt.UTC()}
	_ = json.Unmarshal([]byte(r.Senders), &c.Senders)
	return c
}

type autoReplyRow struct {
	ID             string
	WorkspaceID    string
	ConnectionCode string
	Message        string
	Active         bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (autoReplyRow) TableName() string { return "auto_replies" }

func (r *autoReplyRow) domain() domain.AutoReply {
	return domain.AutoReply{ID: r.ID, WorkspaceID: r.WorkspaceID, Connection: r.ConnectionCode, Message: r.Message,
		Active: r.Active, CreatedAt: r.CreatedAt.UTC()}
}

// CreateCampaign stores a campaign as a draft.
func (s *Store) CreateCampaign(ctx context.Context, c domain.Campaign) (domain.Campaign, error) {
	senders, err := json.Marshal(nonNil(c.Senders))
	if err != nil {
		return domain.Campaign{}, fmt.Errorf("store: create campaign: %w", err)
	}
	t := now()
	row := campaignRow{ID: NewID(), WorkspaceID: c.WorkspaceID, Name: c.Name, Type: c.Type, IntegrationID: c.IntegrationID,
		Senders: string(senders), Status: domain.CampaignDraft, CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return domain.Campaign{}, fmt.Errorf("store: create campaign: %w", err)
	}
	return row.domain(), nil
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// CountCampaigns counts a workspace's campaigns.
func (s *Store) CountCampaigns(ctx context.Context, workspaceID string) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&campaignRow{}).Where("workspace_id = ?", workspaceID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count campaigns: %w", err)
	}
	return n, nil
}

// Campaign returns one campaign of a workspace.
func (s *Store) Campaign(ctx context.Context, workspaceID, id string) (domain.Campaign, error) {
	var row campaignRow
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
		return domain.Campaign{}, notFound("fetch campaign "+id, err)
	}
	return row.domain(), nil
}

// Campaigns lists a workspace's campaigns, newest first; with an
// integration id, only those linking it.
func (s *Store) Campaigns(ctx context.Context, workspaceID, integrationID string, page domain.Page) ([]domain.Campaign, string, error) {
	q := s.db.WithContext(ctx).Model(&campaignRow{}).Where("workspace_id = ?", workspaceID)
	if integrationID != "" {
		q = q.Where("integration_id = ?", integrationID)
	}
	rows, next, err := paginate(q, page, func(r *campaignRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list campaigns: %w", err)
	}
	out := make([]domain.Campaign, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// CampaignGuard decides, inside the transaction that changes a campaign's
// status, whether it may go live; it returns the reason it may not, or "".
type CampaignGuard func(tx CampaignQueries, c *domain.Campaign) (string, error)

// CampaignQueries are the reads a campaign's guard needs.
type CampaignQueries interface {
	Integration(id string) (domain.Integration, []domain.ConnectionState, error)
	SenderHolder(sender string) (integrationID string, err error)
}

// ErrRefused carries the reason a rule refused a change.
type ErrRefused struct{ Reason string }

func (e *ErrRefused) Error() string { return e.Reason }

// SetCampaignStatus moves a campaign live or pauses it. Going live runs
// guard inside the transaction and records the first time the campaign
// went live linked to its integration.
func (s *Store) SetCampaignStatus(ctx context.Context, workspaceID, id, status string, guard CampaignGuard) (domain.Campaign, error) {
	err := s.planningTx(ctx, func(tx *gorm.DB) error {
		if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
			return err
		}
		var row campaignRow
		if err := tx.Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
			return notFound("fetch campaign "+id, err)
		}
		set := map[string]any{"status": status, "updated_at": now()}
		if status == domain.CampaignLive {
			c := row.domain()
			reason, err := guard(&campaignTx{tx: tx, workspaceID: workspaceID}, &c)
			if err != nil {
				return err
			}
			if reason != "" {
				return &ErrRefused{Reason: reason}
			}
			if row.IntegratedAt == nil && row.IntegrationID != "" {
				set["integrated_at"] = now()
			}
		}
		return tx.Model(&campaignRow{}).Where("id = ?", id).Updates(set).Error
	})
	if err != nil {
		return domain.Campaign{}, err
	}
	return s.Campaign(ctx, workspaceID, id)
}

type campaignTx struct {
	tx          *gorm.DB
	workspaceID string
}

func (q *campaignTx) Integration(id string) (domain.Integration, []domain.ConnectionState, error) {
	var in integrationRow
	if err := q.tx.Where("deleted_at IS NULL AND workspace_id = ? AND id = ?", q.workspaceID, id).Take(&in).Error; err != nil {
		return domain.Integration{}, nil, notFound("fetch integration "+id, err)
	}
	var rows []integrationConnectionRow
	if err := q.tx.Where("integration_id = ?", id).Order("position").Find(&rows).Error; err != nil {
		return domain.Integration{}, nil, err
	}
	states := make([]domain.ConnectionState, len(rows))
	for i, r := range rows {
		states[i] = domain.ConnectionState{Code: r.ConnectionCode, Status: r.Status, Error: r.Error}
	}
	return in.domain(), states, nil
}

func (q *campaignTx) SenderHolder(sender string) (string, error) {
	var row senderBindingRow
	err := q.tx.Where("workspace_id = ? AND sender = ?", q.workspaceID, sender).Take(&row).Error
	if err != nil {
		return "", notFound("find sender holder", err)
	}
	return row.IntegrationID, nil
}

// CreateAutoReply stores an auto-reply for a connection code.
func (s *Store) CreateAutoReply(ctx context.Context, a domain.AutoReply) (domain.AutoReply, error) {
	t := now()
	row := autoReplyRow{ID: NewID(), WorkspaceID: a.WorkspaceID, ConnectionCode: a.Connection, Message: a.Message,
		Active: a.Active, CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return domain.AutoReply{}, fmt.Errorf("store: create auto-reply: %w", err)
	}
	return row.domain(), nil
}

// AutoReplies lists a workspace's auto-replies, newest first.
func (s *Store) AutoReplies(ctx context.Context, workspaceID string, page domain.Page) ([]domain.AutoReply, string, error) {
	q := s.db.WithContext(ctx).Model(&autoReplyRow{}).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *autoReplyRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list auto-replies: %w", err)
	}
	out := make([]domain.AutoReply, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// SetAutoReplyActive turns an auto-reply on or off.
func (s *Store) SetAutoReplyActive(ctx context.Context, workspaceID, id string, active bool) (domain.AutoReply, error) {
	res := s.db.WithContext(ctx).Model(&autoReplyRow{}).Where("workspace_id = ? AND id = ?", workspaceID, id).
		Updates(map[string]any{"active": active, "updated_at": now()})
	if res.Error != nil {
		return domain.AutoReply{}, fmt.Errorf("store: update auto-reply: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.AutoReply{}, ErrNotFound
	}
	var row autoReplyRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return domain.AutoReply{}, notFound("fetch auto-reply", err)
	}
	return row.domain(), nil
}

// DeleteAutoReply removes an auto-reply.
func (s *Store) DeleteAutoReply(ctx context.Context, workspaceID, id string) error {
	res := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ?", workspaceID, id).Delete(&autoReplyRow{})
	if res.Error != nil {
		return fmt.Errorf("store: delete auto-reply: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ActiveAutoReply returns the active auto-reply on a connection's sender,
// if any: the one on the connection itself, or on another connection of
// the same channel and sender.
func (s *Store) ActiveAutoReply(ctx context.Context, conn domain.Connection) (domain.AutoReply, bool, error) {
	var row autoReplyRow
	err := s.db.WithContext(ctx).Table("auto_replies AS a").Select("a.*").
		Joins("JOIN connections c ON c.workspace_id = a.workspace_id AND c.code = a.connection_code").
		Where("a.workspace_id = ? AND a.active = ? AND c.channel = ? AND c.sender = ?", conn.WorkspaceID, true, conn.Channel, conn.Sender).
		Order("a.id").Limit(1).Take(&row).Error
	if err != nil {
		if notFound("", err) == ErrNotFound {
			return domain.AutoReply{}, false, nil
		}
		return domain.AutoReply{}, false, fmt.Errorf("store: active auto-reply: %w", err)
	}
	return row.domain(), true, nil
}
