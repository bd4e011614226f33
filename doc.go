// Package sesame turns a cobra program into an API vendor's own CLI with
// sesame's OAuth login and credential handling: the commands login, logout,
// whoami, auth (set, token and the rest of that tree) and doctor, an
// authenticated *http.Client for the vendor's own commands, and sesame's
// exit codes and hints.
//
// A Config names the program and its defaults. Everything follows the name
// exactly as in sesame's -ldflags white-label build: with Name "papermark"
// the program reads PAPERMARK_TOKEN, PAPERMARK_CREDENTIALS_FILE and
// PAPERMARK_API_URL, keeps its logins in ~/.config/papermark (or the OS
// keyring, service "papermark") and says "papermark: ..." when something
// fails.
//
// A vendor's main adds the commands and the global flags (--api-url,
// --issuer, --debug, --storage) to its root command with [CLI.AddTo], builds
// its own commands on [CLI.HTTPClient] and [CLI.APIURL], and runs the root
// with [CLI.Execute], which returns the exit code:
//
//	c := sesame.New(sesame.Config{Name: "papermark", DefaultAPIURL: "https://api.papermark.example"})
//	root := &cobra.Command{Use: "papermark", Short: "Papermark from the command line"}
//	c.AddTo(root)
//	root.AddCommand(newDocumentsCmd(c))
//	os.Exit(c.Execute(ctx, root))
//
// The client finds the credential where sesame does, first found wins:
// <NAME>_TOKEN; <NAME>_CLIENT_ID and <NAME>_CLIENT_SECRET (a token minted
// by client credentials); <NAME>_CREDENTIALS_FILE; the stored login, which
// it refreshes when due. Its requests carry the token only to the API's
// origin, and a 401 renews the token once and retries, as 'sesame api' does.
//
// Exit codes are sesame's: 0 ok, 1 error, 2 usage or bad input, 3 network,
// 4 not authenticated, 5 forbidden (the token lacks a scope), 130
// interrupted. Execute prints one "<name>: <what happened>" line and at most
// one "hint: <what to do>" line on stderr; a vendor command that returns the
// error of the client or of [CLI.CheckResponse] exits 3, 4 or 5 with the
// hint 'sesame api' gives.
//
// A CLI serves one run of the program: create it once in main, and use its
// clients from one goroutine at a time.
package sesame
