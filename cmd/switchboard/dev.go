package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/switchboardhq/switchboard/plugins/fakeprovider"
)

func devCommand() *cli.Command {
	return &cli.Command{
		Name:  "dev",
		Usage: "tools for trying the hub without real providers",
		Commands: []*cli.Command{
			fakeProviderCommand(),
		},
	}
}

// fakeProvider is a fake provider running on loopback.
type fakeProvider interface {
	Listen(addr string) error
	URL() string
	Close() error
}

func fakeProviderCommand() *cli.Command {
	return &cli.Command{
		Name:      "fake-provider",
		Usage:     "run a fake SMS (Twilio-shaped) or WhatsApp (Cloud-API-shaped) provider on loopback, for demos and tests",
		ArgsUsage: "sms|whatsapp",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Usage: "address to listen on", Value: "127.0.0.1:9099", Sources: cli.EnvVars("SWITCHBOARD_FAKE_PROVIDER_ADDR")},
			&cli.StringFlag{Name: "account-sid", Usage: "sms: the account SID it accepts (AC + 32 hex digits; generated when empty)"},
			&cli.StringFlag{Name: "auth-token", Usage: "sms: the auth token it accepts and signs with (generated when empty)"},
			&cli.StringFlag{Name: "phone-number-id", Usage: "whatsapp: the phone number id it accepts", Value: fakeprovider.CloudAPIDefaultPhoneNumberID},
			&cli.StringFlag{Name: "display-phone-number", Usage: "whatsapp: the business number contacts write to", Value: fakeprovider.CloudAPIDefaultDisplayPhoneNumber},
			&cli.StringFlag{Name: "access-token", Usage: "whatsapp: the bearer token it accepts", Value: fakeprovider.CloudAPIDefaultAccessToken},
			&cli.StringFlag{Name: "app-secret", Usage: "whatsapp: the app secret it signs webhooks with", Value: fakeprovider.CloudAPIDefaultAppSecret},
			&cli.BoolFlag{Name: "no-callbacks", Usage: "sms: do not report the status of sent messages"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			kind := strings.ToLower(cmd.Args().First())
			p, describe, err := newFakeProvider(kind, cmd)
			if err != nil {
				return err
			}
			if err := p.Listen(cmd.String("addr")); err != nil {
				return fmt.Errorf("fake-provider: listen on %s: %w", cmd.String("addr"), err)
			}
			defer p.Close()
			describe(os.Stdout, p.URL())
			<-ctx.Done()
			return nil
		},
	}
}

func newFakeProvider(kind string, cmd *cli.Command) (fakeProvider, func(w io.Writer, base string), error) {
	switch kind {
	case "sms":
		tw := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{
			AccountSID: cmd.String("account-sid"),
			AuthToken:  cmd.String("auth-token"),
			Callbacks:  !cmd.Bool("no-callbacks"),
		})
		return tw, func(w io.Writer, base string) {
			fmt.Fprintf(w, "Fake SMS provider (Twilio-shaped) at %s\n", base)
			fmt.Fprintf(w, "  Connection provider settings: {\"accountSid\": %q, \"authToken\": %q, \"baseUrl\": %q}\n", tw.AccountSID(), tw.AuthToken(), base)
			fmt.Fprintf(w, "  Send a contact's SMS to the hub:\n")
			fmt.Fprintf(w, "    curl -s %s/fake/inbound -d '{\"url\": \"CONNECTION_INBOUND_URL\", \"from\": \"+15557654321\", \"to\": \"SENDER\", \"body\": \"Hello\"}'\n", base)
			fmt.Fprintf(w, "  See what the hub sent: curl -s %s/fake/messages\n", base)
		}, nil
	case "whatsapp":
		wa := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{
			PhoneNumberID:      cmd.String("phone-number-id"),
			DisplayPhoneNumber: cmd.String("display-phone-number"),
			AccessToken:        cmd.String("access-token"),
			AppSecret:          cmd.String("app-secret"),
		})
		return wa, func(w io.Writer, base string) {
			o := wa.Options()
			fmt.Fprintf(w, "Fake WhatsApp provider (Cloud-API-shaped) at %s, business number %s\n", base, o.DisplayPhoneNumber)
			fmt.Fprintf(w, "  Connection provider settings: {\"phoneNumberId\": %q, \"accessToken\": %q, \"appSecret\": %q, \"verifyToken\": \"VERIFY_TOKEN\", \"baseUrl\": %q}\n",
				o.PhoneNumberID, o.AccessToken, o.AppSecret, base)
			fmt.Fprintf(w, "  Point its webhook at the connection (the hub answers the verification handshake):\n")
			fmt.Fprintf(w, "    curl -s %s/fake/webhook -d '{\"url\": \"CONNECTION_INBOUND_URL\", \"verifyToken\": \"VERIFY_TOKEN\"}'\n", base)
			fmt.Fprintf(w, "  Send a contact's message to the hub:\n")
			fmt.Fprintf(w, "    curl -s %s/fake/inbound -d '{\"from\": \"15557654321\", \"name\": \"Ana\", \"text\": \"Hello\"}'\n", base)
			fmt.Fprintf(w, "  See what the hub sent: curl -s %s/fake/messages\n", base)
		}, nil
	case "":
		return nil, nil, fmt.Errorf("fake-provider: name the provider: sms or whatsapp")
	}
	return nil, nil, fmt.Errorf("fake-provider: unknown provider %q: sms or whatsapp", kind)
}
