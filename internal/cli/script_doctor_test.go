package cli_test

import "github.com/rogpeppe/go-internal/testscript"

// cmdStopAPI stops the devissuer's API listener only (the issuer keeps
// running): stopapi
func cmdStopAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: stopapi")
	}
	ts.Check(server(ts).CloseAPI())
}
