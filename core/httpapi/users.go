package httpapi

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/auth"
	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Users are the workspace's logins to the admin UI. Only an owner manages
// them in the UI; over the API any admin token may, since tokens carry no
// role (docs/security.md).

type userCreateRequest struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
	Role     *string `json:"role"`
}

// userResponse describes a user: never the password or its hash.
type userResponse struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
}

func userJSON(u domain.User) userResponse {
	return userResponse{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt}
}

// maxEmailLen is the longest address SMTP allows.
const maxEmailLen = 254

func validEmail(email *string) (string, error) {
	if email == nil || strings.TrimSpace(*email) == "" {
		return "", errInvalid("email is required")
	}
	e := strings.TrimSpace(*email)
	if len(e) > maxEmailLen {
		return "", errInvalid("email is longer than %d characters", maxEmailLen)
	}
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
		return "", errInvalid("email: not an email address such as name@example.com")
	}
	return strings.ToLower(e), nil
}

func validRole(role *string) (string, error) {
	if role == nil || *role == "" {
		return "", errInvalid("role is required: owner, admin or agent")
	}
	switch *role {
	case domain.RoleOwner, domain.RoleAdmin, domain.RoleAgent:
		return *role, nil
	}
	return "", errInvalid("role must be \"owner\", \"admin\" or \"agent\", not %s", sdk.Quote(*role))
}

func (s *Server) listUsers(c *gin.Context) {
	if !s.requireOwner(c, "see its users") {
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	users, next, err := s.Store.Users(c.Request.Context(), workspace(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON("users", mapAll(users, userJSON), next))
}

// createUser adds a login. Emails are unique across workspaces, since an
// email alone names the workspace at login: a taken one is 409.
func (s *Server) createUser(c *gin.Context) {
	if !s.requireOwner(c, "add users") {
		return
	}
	var req userCreateRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	email, err := validEmail(req.Email)
	if err != nil {
		s.fail(c, err)
		return
	}
	role, err := validRole(req.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	if req.Password == nil || *req.Password == "" {
		s.fail(c, errInvalid("password is required: %d to %d bytes", auth.MinPasswordLen, auth.MaxPasswordLen))
		return
	}
	hash, err := auth.HashPassword(*req.Password)
	if errors.Is(err, auth.ErrPasswordRules) {
		s.fail(c, errInvalid("password: %d to %d bytes", auth.MinPasswordLen, auth.MaxPasswordLen))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.Store.CreateUser(c.Request.Context(), domain.User{WorkspaceID: workspace(c), Email: email, Role: role, PasswordHash: hash})
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("email: a user with this email already exists"))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, userJSON(u))
}

// deleteUser removes a login and ends its sessions. The workspace's last
// owner stays (409), and a user of the admin UI cannot remove themselves
// (409): another owner must, so no one locks themselves out by a slip.
func (s *Server) deleteUser(c *gin.Context) {
	if !s.requireOwner(c, "remove users") {
		return
	}
	id := c.Param("id")
	if id == callerID(c) {
		s.fail(c, errConflict("you cannot remove your own account; another owner can"))
		return
	}
	err := s.Store.DeleteUser(c.Request.Context(), workspace(c), id)
	if errors.Is(err, store.ErrConflict) {
		s.fail(c, errConflict("the workspace's last owner cannot be removed; make another owner first"))
		return
	}
	if err != nil {
		s.fail(c, notFoundAs(err, "user"))
		return
	}
	c.Status(http.StatusNoContent)
}
