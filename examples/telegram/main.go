// Command telegram is an example third-party channel for Switchboard,
// shaped like the Telegram Bot API, built in a module of its own against
// the public SDK only, exactly as an outside author would build one.
//
// Inbound: Telegram posts each update to the connection's URL with the
// secret token chosen at setWebhook in X-Telegram-Bot-Api-Secret-Token.
// Outbound: POST {baseUrl}/bot{token}/sendMessage {chat_id, text}.
package main

import "github.com/switchboardhq/switchboard/plugins/sdk"

func main() {
	sdk.Serve(&Telegram{})
}
