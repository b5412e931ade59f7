// Command webchat is the channel plugin of the website chat: visitors of a
// website write through an embeddable widget, and the hub answers them live.
package main

import "github.com/switchboardhq/switchboard/plugins/sdk"

func main() {
	sdk.Serve(New())
}
