package cli

import (
	"encoding/base64"
	"testing"
)

func TestIDTokenClaims(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","email":"a@example.com"}`))
	if c := idTokenClaims("h." + payload + ".s"); c == nil || c["email"] != "a@example.com" {
		t.Fatalf("claims = %v", c)
	}
	for _, bad := range []string{"", "opaque", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		if c := idTokenClaims(bad); c != nil {
			t.Errorf("idTokenClaims(%q) = %v", bad, c)
		}
	}
}
