// Command papermark is an API vendor's CLI built on sesame: login, logout,
// whoami, auth and doctor come from github.com/sesame-cli/sesame, and
// documents list is its own.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := sesame.New(sesame.Config{Name: "papermark", DefaultAPIURL: "https://api.papermark.example", Scopes: []string{"documents.read"}})
	root := &cobra.Command{Use: "papermark", Short: "Papermark from the command line"}
	c.AddTo(root) // login, logout, whoami, auth, doctor; --api-url, --issuer, --debug, --storage
	var asJSON bool
	list := &cobra.Command{Use: "list", Short: "List your documents", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return listDocuments(cmd, c, asJSON) }}
	list.Flags().BoolVar(&asJSON, "json", false, "print the documents as JSON")
	docs := &cobra.Command{Use: "documents", Short: "Work with documents"}
	docs.AddCommand(list)
	root.AddCommand(docs)
	code := c.Execute(ctx, root) // sesame's exit codes and hints
	stop()
	os.Exit(code)
}

func listDocuments(cmd *cobra.Command, c *sesame.CLI, asJSON bool) error {
	api, err := c.APIURL(cmd.Context())
	if err != nil {
		return err
	}
	client, err := c.HTTPClient(cmd.Context()) // adds the token; renews it once on a 401
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
		return err // 401 exits 4, 403 exits 5, each with its hint
	}
	var page struct {
		Documents []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"documents"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return fmt.Errorf("reading the documents: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(page.Documents)
	}
	for _, d := range page.Documents {
		fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", d.ID, d.Title)
	}
	return nil
}
