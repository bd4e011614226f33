package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
)

type apiOptions struct {
	Method      string
	Headers     []string
	RawFields   []string
	TypedFields []string
	Input       string
	Include     bool
	Silent      bool
}

func (a *App) newAPICmd() *cobra.Command {
	opts := &apiOptions{}
	cmd := &cobra.Command{
		Use:   "api PATH",
		Short: "Make an authenticated request to the API",
		Long: `Makes an HTTP request to the API with the active token, like 'gh api'.

PATH is relative to the API URL (an absolute URL must be on the API's own
host: the token is never sent anywhere else). Fields given with -f/-F become
a JSON body (or query parameters for GET). A 401 refreshes the stored login
once and retries; a 403 names the missing scope.`,
		Example: `  ` + a.Name + ` api /v1/me
  ` + a.Name + ` api -X POST /v1/documents -f title=Draft
  ` + a.Name + ` api /v1/documents --input body.json -H 'Content-Type: application/json'`,
		Args: a.exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runAPI(cmd.Context(), args[0], opts, cmd.Flags().Changed("method"))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Method, "method", "X", "GET", "HTTP method")
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "add a request header 'Name: value' (repeatable)")
	f.StringArrayVarP(&opts.RawFields, "raw-field", "f", nil, "add a string field key=value (repeatable)")
	f.StringArrayVarP(&opts.TypedFields, "field", "F", nil, "add a typed field key=value: true, false, null and numbers are JSON; @file reads a file (repeatable)")
	f.StringVar(&opts.Input, "input", "", "read the request body from a file (- for stdin)")
	f.BoolVarP(&opts.Include, "include", "i", false, "print the response status line and headers")
	f.BoolVar(&opts.Silent, "silent", false, "do not print the response body")
	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// maxRequestBody bounds a request body read from --input.
const maxRequestBody = 50 << 20

func (a *App) runAPI(ctx context.Context, path string, opts *apiOptions, methodSet bool) error {
	header := http.Header{}
	for _, h := range opts.Headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return usageErrorf("bad header %q: want 'Name: value'", h)
		}
		if strings.EqualFold(name, "Authorization") {
			return usageErrorf("the Authorization header is set by %s", a.Name)
		}
		header.Add(name, strings.TrimSpace(value))
	}
	fields, err := a.apiFields(opts)
	if err != nil {
		return err
	}
	if opts.Input != "" && len(fields) > 0 {
		return usageErrorf("--input cannot be combined with -f/-F fields")
	}
	method := strings.ToUpper(opts.Method)
	if !methodSet && (len(fields) > 0 || opts.Input != "") {
		method = http.MethodPost
	}
	var body []byte
	switch {
	case opts.Input != "":
		body, err = a.readInput(opts.Input)
		if err != nil {
			return err
		}
	case len(fields) > 0 && (method == http.MethodGet || method == http.MethodHead):
		path, err = addQuery(path, fields)
		if err != nil {
			return err
		}
	case len(fields) > 0:
		body, err = json.Marshal(fields)
		if err != nil {
			return err
		}
		if header.Get("Content-Type") == "" {
			header.Set("Content-Type", "application/json")
		}
	}

	t, err := a.activeCredential(ctx, true)
	if err != nil {
		return err
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body) // rewindable: a 401 renews t and sends it again
	}
	resp, err := a.apiClient(t).Do(ctx, method, path, header, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := a.printResponse(resp, opts); err != nil {
		return err
	}
	return a.apiStatusError(resp, t)
}

// apiFields parses -f (strings) and -F (typed) fields.
func (a *App) apiFields(opts *apiOptions) (map[string]any, error) {
	fields := map[string]any{}
	for _, f := range opts.RawFields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageErrorf("bad field %q: want key=value", f)
		}
		fields[k] = v
	}
	for _, f := range opts.TypedFields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageErrorf("bad field %q: want key=value", f)
		}
		switch {
		case v == "true":
			fields[k] = true
		case v == "false":
			fields[k] = false
		case v == "null":
			fields[k] = nil
		case strings.HasPrefix(v, "@"):
			data, err := a.readInput(v[1:])
			if err != nil {
				return nil, err
			}
			fields[k] = string(data)
		default:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				fields[k] = n
			} else if x, err := strconv.ParseFloat(v, 64); err == nil {
				fields[k] = x
			} else {
				fields[k] = v
			}
		}
	}
	return fields, nil
}

// readInput reads a file, or stdin for "-", with a size limit.
func (a *App) readInput(name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = a.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &credentials.InputError{What: "--input " + name, Problem: "cannot open"}
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxRequestBody+1))
	if err != nil {
		return nil, &credentials.InputError{What: "--input " + name, Problem: "cannot read"}
	}
	if len(data) > maxRequestBody {
		return nil, &credentials.InputError{What: "--input " + name, Problem: fmt.Sprintf("larger than %d bytes", maxRequestBody)}
	}
	return data, nil
}

func addQuery(path string, fields map[string]any) (string, error) {
	u, err := url.Parse(path)
	if err != nil {
		return "", usageErrorf("bad path %q", path)
	}
	q := u.Query()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if fields[k] == nil {
			q.Add(k, "")
		} else {
			q.Add(k, fmt.Sprint(fields[k]))
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// printResponse writes the status and headers (-i) and the body: JSON
// pretty-printed on a terminal, byte for byte otherwise.
func (a *App) printResponse(resp *http.Response, opts *apiOptions) error {
	if opts.Include {
		fmt.Fprintf(a.Stdout, "%s %s\r\n", resp.Proto, resp.Status)
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range resp.Header {
				if !yield(k) {
					return
				}
			}
		}) {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(a.Stdout, "%s: %s\r\n", k, v)
			}
		}
		fmt.Fprint(a.Stdout, "\r\n")
	}
	if opts.Silent {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if a.StdoutIsTerminal && isJSON {
		data, err := io.ReadAll(io.LimitReader(resp.Body, apiclient.MaxBody+1))
		if err != nil {
			return httpx.Failed(resp.Request.Context(), httpx.API, "", resp.Request.URL.String(), err)
		}
		if len(data) > apiclient.MaxBody {
			// Too large to pretty-print: pass it through whole.
			if _, err := a.Stdout.Write(data); err != nil {
				return err
			}
			if _, err := io.Copy(a.Stdout, resp.Body); err != nil {
				return httpx.Failed(resp.Request.Context(), httpx.API, "", resp.Request.URL.String(), err)
			}
			return nil
		}
		var buf bytes.Buffer
		if json.Indent(&buf, data, "", "  ") == nil {
			buf.WriteByte('\n')
			_, err = a.Stdout.Write(buf.Bytes())
			return err
		}
		_, err = a.Stdout.Write(data)
		return err
	}
	if _, err := io.Copy(a.Stdout, resp.Body); err != nil {
		return httpx.Failed(resp.Request.Context(), httpx.API, "", resp.Request.URL.String(), err)
	}
	return nil
}

// apiStatusError turns a failed status into the exit it deserves (a 401
// or 403 is hinted in exit.go from the credential t: its source, its
// scopes).
func (a *App) apiStatusError(resp *http.Response, t *credentials.Token) error {
	a.active = t
	if err := apiclient.Check(resp); err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}
