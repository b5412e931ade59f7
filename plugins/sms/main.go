// Command sms is the channel plugin for SMS through a Twilio-shaped
// provider: it checks and normalises the provider's inbound messages and
// status callbacks, and sends replies through the provider's Messages API.
package main

import "github.com/switchboardhq/switchboard/plugins/sdk"

func main() {
	sdk.Serve(&SMS{})
}
