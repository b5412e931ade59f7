package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchboardhq/switchboard/core/domain"
)

func (r *userRow) domain() domain.User {
	return domain.User{ID: r.ID, WorkspaceID: r.WorkspaceID, Email: r.Email, Role: r.Role, PasswordHash: r.PasswordHash,
		CreatedAt: r.CreatedAt.UTC()}
}

// CreateUser stores an admin-UI login. The email is kept lower-cased and is
// unique across workspaces: it alone names the workspace at login.
func (s *Store) CreateUser(ctx context.Context, u domain.User) (domain.User, error) {
	row := userRow{ID: NewID(), WorkspaceID: u.WorkspaceID, Email: strings.ToLower(u.Email), Role: u.Role,
		PasswordHash: u.PasswordHash, CreatedAt: now()}
	err := s.db.WithContext(ctx).Create(&row).Error
	if isUniqueViolation(err) {
		return domain.User{}, ErrConflict
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("store: create user: %w", err)
	}
	return row.domain(), nil
}

// UserByEmail returns the user with this email, in any workspace.
func (s *Store) UserByEmail(ctx context.Context, email string) (domain.User, error) {
	var row userRow
	if err := s.db.WithContext(ctx).Where("email = ?", strings.ToLower(email)).Take(&row).Error; err != nil {
		return domain.User{}, notFound("fetch user", err)
	}
	return row.domain(), nil
}

// Users lists a workspace's users, newest first.
func (s *Store) Users(ctx context.Context, workspaceID string, page domain.Page) ([]domain.User, string, error) {
	q := s.db.WithContext(ctx).Model(&userRow{}).Where("workspace_id = ?", workspaceID)
	rows, next, err := paginate(q, page, func(r *userRow) string { return r.ID })
	if err != nil {
		return nil, "", fmt.Errorf("store: list users: %w", err)
	}
	out := make([]domain.User, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// DeleteUser removes a user of a workspace and ends their sessions. The
// last owner of a workspace cannot be removed (ErrConflict).
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	if uuid.Validate(id) != nil {
		return ErrNotFound
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two owners removing each other at once must not both succeed:
		// the workspace's row is held until the removal commits.
		if err := lockWorkspace(tx, s.dialect, workspaceID); err != nil {
			return err
		}
		var row userRow
		if err := tx.Where("workspace_id = ? AND id = ?", workspaceID, id).Take(&row).Error; err != nil {
			return notFound("fetch user "+id, err)
		}
		if row.Role == domain.RoleOwner {
			var owners int64
			if err := tx.Model(&userRow{}).Where("workspace_id = ? AND role = ?", workspaceID, domain.RoleOwner).Count(&owners).Error; err != nil {
				return err
			}
			if owners <= 1 {
				return ErrConflict
			}
		}
		if err := tx.Where("user_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		return tx.Delete(&row).Error
	})
}

// CreateSession stores a session; s.ID is the hash of its cookie value.
func (s *Store) CreateSession(ctx context.Context, sess domain.Session) error {
	row := sessionRow{ID: sess.ID, UserID: sess.User.ID, WorkspaceID: sess.User.WorkspaceID, CSRFToken: sess.CSRFToken,
		CreatedAt: now(), ExpiresAt: sess.ExpiresAt.UTC()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// Session returns the unexpired session with this hash, with its user.
func (s *Store) Session(ctx context.Context, hash string) (domain.Session, error) {
	var row sessionRow
	if err := s.db.WithContext(ctx).Where("id = ? AND expires_at > ?", hash, now()).Take(&row).Error; err != nil {
		return domain.Session{}, notFound("fetch session", err)
	}
	var u userRow
	if err := s.db.WithContext(ctx).Where("id = ?", row.UserID).Take(&u).Error; err != nil {
		return domain.Session{}, notFound("fetch session user", err)
	}
	return domain.Session{ID: row.ID, CSRFToken: row.CSRFToken, ExpiresAt: row.ExpiresAt.UTC(), User: u.domain()}, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", hash).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// PurgeSessions deletes sessions that expired before t.
func (s *Store) PurgeSessions(ctx context.Context, t time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", t.UTC()).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: purge sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}
