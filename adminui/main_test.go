package adminui_test

import (
	"testing"

	"github.com/switchboardhq/switchboard/core/apptest"
)

func TestMain(m *testing.M) { apptest.Main(m) }
