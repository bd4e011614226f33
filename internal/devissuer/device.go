package devissuer

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file holds the device authorization grant (RFC 8628): the device
// authorization endpoint, the verification page and approval.

type deviceStatus int

const (
	devicePending deviceStatus = iota
	deviceApproved
	deviceDenied
	deviceRedeemed
)

type deviceCode struct {
	clientID string
	userCode string // normalized, no dash
	scopes   []string
	resource string
	issued   time.Time
	expires  time.Time
	interval time.Duration
	lastPoll time.Time
	status   deviceStatus
	user     string
	grant    *grant
}

func (s *Server) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	form, ferr := readForm(w, r)
	if form != nil {
		s.noteResource("device/code", form)
	}
	if ferr != nil {
		writeOAuthError(w, ferr)
		return
	}
	c, cerr := s.authenticateClient(r, form)
	if cerr != nil {
		writeOAuthError(w, cerr)
		return
	}
	if !c.hasGrant(grantDevice) {
		writeOAuthError(w, errf(http.StatusBadRequest, "unauthorized_client", "client is not allowed to use the device authorization grant"))
		return
	}
	scopes := splitScope(form.Get("scope"))
	if !allSupported(scopes) {
		writeOAuthError(w, errf(http.StatusBadRequest, "invalid_scope", "unsupported scope requested"))
		return
	}
	resource, rerr := s.checkResource(form)
	if rerr != nil {
		writeOAuthError(w, rerr)
		return
	}
	dcode := randomString(32)
	iss := s.IssuerURL()

	s.mu.Lock()
	now := s.now()
	var uc string
	for {
		uc = newUserCode()
		if old := s.userCodes[uc]; old == nil || !now.Before(old.expires) {
			break
		}
	}
	d := &deviceCode{
		clientID: c.id,
		userCode: uc,
		scopes:   scopes,
		resource: resource,
		issued:   now,
		expires:  now.Add(s.opts.DeviceTTL),
		interval: s.interval,
	}
	s.devices[hashOf(dcode)] = d
	s.userCodes[uc] = d
	s.mu.Unlock()

	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               dcode,
		"user_code":                 formatUserCode(uc),
		"verification_uri":          iss + "/device",
		"verification_uri_complete": iss + "/device?user_code=" + url.QueryEscape(formatUserCode(uc)),
		"expires_in":                int64(s.opts.DeviceTTL / time.Second),
		"interval":                  int64(s.interval / time.Second),
	})
}

func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		code := r.URL.Query().Get("user_code")
		data := devicePageData{UserCode: code, Username: defaultDevUser}
		if code != "" {
			s.mu.Lock()
			if d := s.deviceByUserCodeLocked(code); d != nil && d.status == devicePending {
				if c := s.clients[d.clientID]; c != nil {
					data.ClientName = c.displayName()
				}
				data.Scopes = d.scopes
			}
			s.mu.Unlock()
		}
		s.renderPage(w, http.StatusOK, "device", data)
	case http.MethodPost:
		if !hasMediaType(r, "application/x-www-form-urlencoded") {
			s.renderResult(w, http.StatusBadRequest, "Bad request", "The form must be sent as application/x-www-form-urlencoded.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			s.renderResult(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		code, action, user := r.PostForm.Get("user_code"), r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("username"))
		var err error
		switch action {
		case "approve":
			err = s.Approve(code, user)
		case "deny":
			err = s.Deny(code)
		default:
			s.renderResult(w, http.StatusBadRequest, "Bad request", "Choose approve or deny.")
			return
		}
		switch {
		case errors.Is(err, ErrUnknownUserCode):
			s.renderResult(w, http.StatusBadRequest, "Unknown or expired code", "Check the code shown on your device and try again.")
		case errors.Is(err, ErrUserCodeUsed):
			s.renderResult(w, http.StatusBadRequest, "Code already used", "This code was already approved or denied.")
		case action == "approve":
			s.renderResult(w, http.StatusOK, "Device approved", "You can close this window and return to your device.")
		default:
			s.renderResult(w, http.StatusOK, "Device denied", "The device was not given access.")
		}
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
}

// Approve approves the device authorization with userCode for user ("dev"
// when empty). The code matches case-insensitively, with or without the dash.
func (s *Server) Approve(userCode, user string) error {
	if user == "" {
		user = defaultDevUser
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decideLocked(userCode, user, true)
}

// Deny denies the device authorization with userCode.
func (s *Server) Deny(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decideLocked(userCode, "", false)
}

func (s *Server) decideLocked(userCode, user string, approve bool) error {
	d := s.deviceByUserCodeLocked(userCode)
	if d == nil {
		return ErrUnknownUserCode
	}
	if d.status != devicePending {
		return ErrUserCodeUsed
	}
	if approve {
		d.status = deviceApproved
		d.user = user
	} else {
		d.status = deviceDenied
	}
	return nil
}

// deviceByUserCodeLocked finds a live device authorization; it applies
// AutoApprove first so that the page and the poll agree.
func (s *Server) deviceByUserCodeLocked(userCode string) *deviceCode {
	d := s.userCodes[normalizeUserCode(userCode)]
	if d == nil {
		return nil
	}
	now := s.now()
	if !now.Before(d.expires) {
		return nil
	}
	s.autoApproveLocked(d, now)
	return d
}

func (s *Server) autoApproveLocked(d *deviceCode, now time.Time) {
	if s.opts.AutoApprove > 0 && d.status == devicePending && !now.Before(d.issued.Add(s.opts.AutoApprove)) {
		d.status = deviceApproved
		d.user = defaultDevUser
	}
}
