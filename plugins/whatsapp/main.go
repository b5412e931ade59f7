// Command whatsapp is the channel plugin for WhatsApp through Meta's Cloud
// API: contacts' messages arrive as signed webhook posts, replies go out
// through the Graph API's messages endpoint.
package main

import "github.com/switchboardhq/switchboard/plugins/sdk"

func main() {
	sdk.Serve(&WhatsApp{})
}
