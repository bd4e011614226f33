// Command testbrowser is the scripted browser of the end-to-end suite,
// started by sesame as $BROWSER with the authorization URL as its last
// argument. It does what a person does: it opens the URL with a cookie
// jar, follows redirects, and on a page with a login form fills in the
// username and password fields and submits the form, until it reaches a
// page without a form (sesame's loopback page, or an error page).
//
// Environment:
//
//	TESTBROWSER_USER, TESTBROWSER_PASSWORD  what to type into the login form
//	TESTBROWSER_LOG                         file to append its log to
//
// The log starts with "open <scheme://host/path>" and the authorization
// request's non-secret parameters (code_challenge_method, prompt,
// redirect_uri), then has one line per page, "page <status>
// <scheme://host/path>", and a last line "end <status> <title>" (or "end
// error <message>"). Other query parameters are not logged: they carry
// codes and state.
package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/html"
)

const maxPages = 10

func main() {
	logw := io.Discard
	if p := os.Getenv("TESTBROWSER_LOG"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err == nil {
			defer f.Close()
			logw = f
		}
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(logw, "end error no URL given")
		os.Exit(2)
	}
	b := &browser{
		log:      logw,
		user:     os.Getenv("TESTBROWSER_USER"),
		password: os.Getenv("TESTBROWSER_PASSWORD"),
	}
	jar, _ := cookiejar.New(nil)
	b.client = &http.Client{Jar: jar, Timeout: 30 * time.Second}
	if err := b.browse(os.Args[len(os.Args)-1]); err != nil {
		fmt.Fprintf(logw, "end error %v\n", err)
		os.Exit(1)
	}
}

type browser struct {
	client         *http.Client
	log            io.Writer
	user, password string
}

func (b *browser) browse(start string) error {
	req, err := http.NewRequest(http.MethodGet, start, nil)
	if err != nil {
		return err
	}
	u, q := req.URL, req.URL.Query()
	fmt.Fprintf(b.log, "open %s://%s%s", u.Scheme, u.Host, u.Path)
	for _, k := range []string{"code_challenge_method", "prompt", "redirect_uri"} {
		if q.Has(k) {
			fmt.Fprintf(b.log, " %s=%s", k, q.Get(k))
		}
	}
	fmt.Fprintln(b.log)
	for range maxPages {
		resp, err := b.client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		u := resp.Request.URL
		fmt.Fprintf(b.log, "page %d %s://%s%s\n", resp.StatusCode, u.Scheme, u.Host, u.Path)
		doc, err := html.Parse(strings.NewReader(string(body)))
		if err != nil {
			return err
		}
		f := findForm(doc)
		if f == nil {
			fmt.Fprintf(b.log, "end %d %s\n", resp.StatusCode, title(doc))
			if resp.StatusCode >= 400 {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		}
		if req, err = b.submit(u, f); err != nil {
			return err
		}
	}
	return errors.New("too many pages")
}

// form is a parsed HTML form.
type form struct {
	action, method string
	fields         url.Values
}

// submit fills the login fields of f and builds its submission.
func (b *browser) submit(page *url.URL, f *form) (*http.Request, error) {
	for name := range f.fields {
		switch strings.ToLower(name) {
		case "username", "login", "email":
			f.fields.Set(name, b.user)
		case "password":
			f.fields.Set(name, b.password)
		}
	}
	action, err := page.Parse(f.action)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(f.method, http.MethodPost) {
		req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(f.fields.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	action.RawQuery = f.fields.Encode()
	return http.NewRequest(http.MethodGet, action.String(), nil)
}

// findForm returns the first form of the document and its input fields.
func findForm(n *html.Node) *form {
	if n.Type == html.ElementNode && n.Data == "form" {
		f := &form{action: attr(n, "action"), method: attr(n, "method"), fields: url.Values{}}
		var walk func(*html.Node)
		walk = func(c *html.Node) {
			if c.Type == html.ElementNode && c.Data == "input" && attr(c, "name") != "" {
				f.fields.Set(attr(c, "name"), attr(c, "value"))
			}
			for k := c.FirstChild; k != nil; k = k.NextSibling {
				walk(k)
			}
		}
		walk(n)
		return f
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findForm(c); f != nil {
			return f
		}
	}
	return nil
}

func title(n *html.Node) string {
	if n.Type == html.ElementNode && n.Data == "title" && n.FirstChild != nil {
		return strings.TrimSpace(n.FirstChild.Data)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if t := title(c); t != "" {
			return t
		}
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
