package devissuer

import (
	"errors"
	"net/http"
)

// ErrAPINotRunning means CloseAPI found no API listener started by Start.
var ErrAPINotRunning = errors.New("the API is not running")

// CloseAPI stops only the API listener started by Start; the issuer keeps
// serving. It lets tests see an unreachable API next to a working issuer.
func (s *Server) CloseAPI() error {
	s.mu.Lock()
	var api *http.Server
	if len(s.servers) == 2 { // Start appends the issuer, then the API
		api = s.servers[1]
		s.servers = s.servers[:1:1]
	}
	s.mu.Unlock()
	if api == nil {
		return ErrAPINotRunning
	}
	return api.Close()
}
