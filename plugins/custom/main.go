// Command custom is the channel plugin for the custom webhook: an app API
// through which any external system pushes messages into the hub.
package main

import "github.com/switchboardhq/switchboard/plugins/sdk"

func main() {
	sdk.Serve(&Custom{})
}
