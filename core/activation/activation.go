// Package activation holds the rules that decide whether an integration's
// connection may be activated: its channel must be served by a plugin, and
// its sender must not be taken by a live campaign or an active auto-reply.
// The store applies them inside the transaction that starts the
// integration, where it also makes sure no two active integrations hold one
// sender.
package activation

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/core/domain"
	"github.com/switchboardhq/switchboard/core/store"
	"github.com/switchboardhq/switchboard/plugins/sdk"
)

// Channels says which connection channels the installed plugins serve.
type Channels interface {
	ByChannel(channel string) (sdk.Info, bool)
}

// Rules are the activation rules for the installed plugins.
type Rules struct {
	channels Channels
}

var _ store.ActivationRules = (*Rules)(nil)

// New returns the rules.
func New(ch Channels) *Rules { return &Rules{channels: ch} }

// Refuse returns why a connection may not be activated, or "".
func (r *Rules) Refuse(ctx context.Context, q store.ActivationQueries, conn *domain.Connection) (string, error) {
	if _, ok := r.channels.ByChannel(conn.Channel); !ok {
		return fmt.Sprintf("no installed plugin serves channel %s", conn.Channel), nil
	}
	live, err := q.LiveCampaignsUsing(ctx, conn.Sender)
	if err != nil {
		return "", err
	}
	if len(live) > 0 {
		names := make([]string, len(live))
		for i, c := range live {
			names[i] = fmt.Sprintf("%s campaign %q", c.Type, c.Name)
		}
		return fmt.Sprintf("sender %s is used by live %s", conn.Sender, strings.Join(names, ", ")), nil
	}
	busy, err := q.ActiveAutoReplyOn(ctx, conn.Channel, conn.Sender)
	if err != nil {
		return "", err
	}
	if busy {
		return fmt.Sprintf("sender %s has an active auto-reply", conn.Sender), nil
	}
	return "", nil
}

// CampaignGuard decides whether a campaign may go live: a chatbot campaign
// links an active integration that has no connections, and a campaign's
// senders must not be held by an active integration.
func CampaignGuard(q store.CampaignQueries, c *domain.Campaign) (string, error) {
	if c.IntegrationID != "" {
		in, conns, err := q.Integration(c.IntegrationID)
		if err == store.ErrNotFound {
			return fmt.Sprintf("integration %s does not exist", c.IntegrationID), nil
		}
		if err != nil {
			return "", err
		}
		if in.Status != domain.StatusActive {
			return fmt.Sprintf("integration %q is not active; start it first", in.Name), nil
		}
		if c.Type == domain.CampaignChatbot && len(conns) > 0 {
			return fmt.Sprintf("integration %q has connections; a chatbot campaign needs one without", in.Name), nil
		}
	}
	for _, sender := range c.Senders {
		holder, err := q.SenderHolder(sender)
		if err == store.ErrNotFound {
			continue
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("sender %s is active on integration %s", sender, holder), nil
	}
	return "", nil
}

// Refusing returns rules that refuse the connections in refused (by id,
// with the reason) and apply rules to the others: how a plugin's refusal
// to activate a connection, learnt before the start's transaction, is
// applied inside it.
func Refusing(rules store.ActivationRules, refused map[string]string) store.ActivationRules {
	return refusing{rules: rules, refused: refused}
}

type refusing struct {
	rules   store.ActivationRules
	refused map[string]string
}

func (r refusing) Refuse(ctx context.Context, q store.ActivationQueries, conn *domain.Connection) (string, error) {
	if reason, ok := r.refused[conn.ID]; ok {
		return reason, nil
	}
	return r.rules.Refuse(ctx, q, conn)
}
