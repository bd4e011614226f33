package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/sesame-cli/sesame/internal/apiclient"
)

// apiProbe is what an unauthenticated GET of the /me path found.
type apiProbe struct {
	urlErr      error // no /me URL could be made of the API URL
	badRequest  bool  // no request could be made of it
	host        string
	err         error // the request failed
	timedOut    bool  // the probe's deadline passed
	phases      phaseTimes
	status      int
	took        time.Duration
	contentType string
}

// phaseTimes is how long DNS, TCP connect and the TLS handshake took, and
// how they failed.
type phaseTimes struct {
	dns, conn, tls          time.Duration
	dnsErr, connErr, tlsErr error
	sawDNS, sawConn, sawTLS bool
}

// phases records the timings of one HTTP request (httptrace callbacks may
// run on other goroutines).
type phases struct {
	mu                  sync.Mutex
	now                 func() time.Time
	dnsStart, connStart time.Time
	tlsStart            time.Time
	t                   phaseTimes
}

func (p *phases) trace() *httptrace.ClientTrace {
	lock := func(f func()) { p.mu.Lock(); f(); p.mu.Unlock() }
	t := &p.t
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { lock(func() { p.dnsStart = p.now() }) },
		DNSDone: func(info httptrace.DNSDoneInfo) {
			lock(func() { t.sawDNS, t.dns, t.dnsErr = true, p.now().Sub(p.dnsStart), info.Err })
		},
		ConnectStart: func(_, _ string) { lock(func() { p.connStart = p.now() }) },
		ConnectDone: func(_, _ string, err error) {
			lock(func() {
				if t.connErr == nil || err == nil {
					t.sawConn, t.conn, t.connErr = true, p.now().Sub(p.connStart), err
				}
			})
		},
		TLSHandshakeStart: func() { lock(func() { p.tlsStart = p.now() }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			lock(func() { t.sawTLS, t.tls, t.tlsErr = true, p.now().Sub(p.tlsStart), err })
		},
	}
}

// times is a copy of the timings so far.
func (p *phases) times() phaseTimes {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.t
}

// probeAPI sends an unauthenticated GET of the /me path (no token is sent)
// and notes how DNS, TCP, TLS and HTTP went, and the API's Date header.
func (d *doctor) probeAPI(ctx context.Context) {
	a := d.a
	pr := &apiProbe{}
	d.probe = pr
	ctx, cancel := context.WithTimeout(ctx, d.checkTimeout)
	defer cancel()
	u, err := (&apiclient.Client{BaseURL: d.apiURL}).ResolveURL(a.mePath())
	if err != nil {
		pr.urlErr = err
		return
	}
	pr.host = u.Host
	p := &phases{now: a.Now}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, p.trace()), http.MethodGet, u.String(), nil)
	if err != nil {
		pr.badRequest = true
		return
	}
	req.Header.Set("Accept", "application/json")
	start := a.Now()
	resp, err := a.HTTPClient().Do(req)
	if err != nil {
		pr.err = err
		pr.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		pr.phases = p.times()
		return
	}
	at := a.Now()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		d.date, d.dateAt = t, at
	}
	pr.phases = p.times()
	pr.status = resp.StatusCode
	pr.took = at.Sub(start)
	pr.contentType = resp.Header.Get("Content-Type")
}
