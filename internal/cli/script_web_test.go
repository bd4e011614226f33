package cli_test

import (
	"errors"
	"net/http"
	"os"
)

// tamperState prepares fakebrowser's client for FAKEBROWSER_TAMPER=state:
// it stops before a redirect to a /callback URL (sesame's loopback
// redirect) so that followTampered can change its state. It reports whether
// tampering is on.
func tamperState(c *http.Client) bool {
	if os.Getenv("FAKEBROWSER_TAMPER") != "state" {
		return false
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/callback" {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return true
}

// followTampered follows a redirect that tamperState stopped, with another
// state in its query (as an attacker's forged callback would carry); other
// responses are returned as they are.
func followTampered(c *http.Client, resp *http.Response) (*http.Response, error) {
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return resp, nil
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	q := u.Query()
	q.Set("state", "forged-"+q.Get("state"))
	u.RawQuery = q.Encode()
	return c.Get(u.String())
}
