package sesame_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame"
)

// A vendor's CLI: sesame's commands and flags under the vendor's root, and
// a command of its own that calls the API with sesame's client. Here a CI
// job runs it twice with PAPERMARK_TOKEN set: once with a good token, once
// with one the API rejects, which exits 4 with sesame's hint.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer pm_live_1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, `[{"id": "doc_1", "title": "Welcome"}]`)
	}))
	defer api.Close()

	for _, token := range []string{"pm_live_1", "pm_revoked"} {
		env := map[string]string{"PAPERMARK_TOKEN": token, "PAPERMARK_API_URL": api.URL}
		c := sesame.New(sesame.Config{
			Name:          "papermark",
			DefaultAPIURL: "https://api.papermark.example",
			// A real main leaves these nil: the process's environment and stderr.
			Getenv: func(k string) string { return env[k] },
			Stderr: os.Stdout,
		})
		root := &cobra.Command{Use: "papermark"}
		c.AddTo(root) // login, logout, whoami, auth, doctor; --api-url, --issuer, --debug, --storage
		root.AddCommand(newDocumentsCmd(c))
		root.SetArgs([]string{"documents"})
		fmt.Println("exit code", c.Execute(context.Background(), root))
	}
	// Output:
	// [{"id": "doc_1", "title": "Welcome"}]
	// exit code 0
	// papermark: the API rejected the token (401)
	// hint: the token comes from PAPERMARK_TOKEN: replace it there (a login is not used while it is set)
	// exit code 4
}

func newDocumentsCmd(c *sesame.CLI) *cobra.Command {
	return &cobra.Command{
		Use:   "documents",
		Short: "List your documents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.APIURL(cmd.Context())
			if err != nil {
				return err
			}
			client, err := c.HTTPClient(cmd.Context())
			if err != nil {
				return err
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, api+"/v1/documents", nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if err := c.CheckResponse(resp); err != nil {
				return err
			}
			_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
			return err
		},
	}
}
