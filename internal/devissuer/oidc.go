package devissuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
)

// This file holds OpenID Connect: the userinfo endpoint, ID tokens and
// their JWKS.

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	id, ok := s.authorize(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"sub":                id.user,
		"name":               id.displayName(),
		"email":              id.user + "@example.com",
		"preferred_username": id.user,
	})
}

// idTokenKey signs ID tokens (ES256).
type idTokenKey struct {
	kid string
	key *ecdsa.PrivateKey
}

func newIDTokenKey() *idTokenKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return &idTokenKey{kid: randomString(8), key: k}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad32(n *big.Int) []byte {
	b := make([]byte, 32)
	return n.FillBytes(b)
}

// idTokenLocked is an OpenID Connect ID token for g's user and client.
func (s *Server) idTokenLocked(g *grant) string {
	now := s.now()
	id := identity{user: g.user}
	claims := map[string]any{
		"iss":                s.issuerURL,
		"sub":                g.user,
		"aud":                g.clientID,
		"iat":                now.Unix(),
		"exp":                now.Add(s.opts.AccessTTL).Unix(),
		"auth_time":          now.Unix(),
		"name":               id.displayName(),
		"email":              g.user + "@example.com",
		"preferred_username": g.user,
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.idKey.kid})
	payload, _ := json.Marshal(claims)
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	r, sig, err := ecdsa.Sign(rand.Reader, s.idKey.key, sum[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + b64(append(pad32(r), pad32(sig)...))
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if s.idKey == nil {
		notFound(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	pt, _ := s.idKey.key.PublicKey.Bytes() // 0x04 || X || Y
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": s.idKey.kid,
		"x": b64(pt[1:33]), "y": b64(pt[33:65]),
	}}})
}
