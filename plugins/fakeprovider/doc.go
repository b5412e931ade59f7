// Package fakeprovider runs stand-ins for the messaging providers that
// Switchboard's channel plugins talk to, for tests and demos. Each fake
// listens on a local address, speaks its provider's real wire format (the
// same paths, authentication, form or JSON bodies, error answers and
// signed webhooks), records what it was sent, and can be told to fail.
//
// The fakes check credentials but are not hardened: they post to whatever
// URL they are given and keep everything in memory. Run them on loopback,
// never where the public can reach them.
//
// Twilio, for SMS, is in the twilio*.go files:
//
//	tw := fakeprovider.NewTwilio(fakeprovider.TwilioOptions{Callbacks: true})
//	if err := tw.Listen("127.0.0.1:0"); err != nil { … }
//	defer tw.Close()
//	// A connection's provider settings: accountSid tw.AccountSID(),
//	// authToken tw.AuthToken(), baseUrl tw.URL().
//
// The WhatsApp Cloud API, in the cloudapi*.go files:
//
//	wa := fakeprovider.NewCloudAPI(fakeprovider.CloudAPIOptions{})
//	if err := wa.Listen("127.0.0.1:0"); err != nil { … }
//	defer wa.Close()
//	// A connection's provider settings: phoneNumberId, accessToken and
//	// appSecret from wa.Options(), baseUrl wa.URL(); then point the
//	// fake's webhook at the connection: wa.Subscribe(ctx, inboundURL, verifyToken).
package fakeprovider
