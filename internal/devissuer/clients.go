package devissuer

import (
	"net"
	"net/url"
)

// This file holds the client model and its redirect URI rules (RFC 8252).

type client struct {
	id           string
	secretHash   hash
	public       bool
	name         string
	grantTypes   []string
	scopes       []string // client_credentials default / allowed scopes
	redirectURIs []string
	native       bool
	anyLoopback  bool // pre-registered: any loopback redirect is allowed
	registered   bool // registered by RFC 7591 (not from Options.Clients)
	regTokenHash hash // RFC 7592 registration access token
	appType      string
	authMethod   string
	responses    []string
	issuedAt     int64
}

func (c *client) displayName() string {
	if c.name != "" {
		return c.name
	}
	return c.id
}

func (c *client) hasGrant(g string) bool { return contains(c.grantTypes, g) }

func loopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validRedirectURI(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Fragment != "" || p.User != nil || p.Opaque != "" {
		return false
	}
	switch p.Scheme {
	case "https":
		return p.Hostname() != ""
	case "http":
		return loopbackIP(p.Hostname())
	}
	return false
}

// redirectAllowed reports whether u may be used as c's redirect URI: an exact
// registered match, or for native clients a registered loopback URI on any
// port (RFC 8252 section 7.3). Pre-registered clients accept any loopback URI.
// With exact, a registered client's URI must match exactly, port included.
func (c *client) redirectAllowed(u string, exact bool) bool {
	if !validRedirectURI(u) {
		return false
	}
	if contains(c.redirectURIs, u) {
		return true
	}
	p, _ := url.Parse(u)
	if p.Scheme != "http" {
		return false
	}
	if c.anyLoopback {
		return true
	}
	if !c.native || exact {
		return false
	}
	for _, reg := range c.redirectURIs {
		rp, err := url.Parse(reg)
		if err != nil || rp.Scheme != "http" {
			continue
		}
		if rp.Hostname() == p.Hostname() && rp.EscapedPath() == p.EscapedPath() && rp.RawQuery == p.RawQuery {
			return true
		}
	}
	return false
}
