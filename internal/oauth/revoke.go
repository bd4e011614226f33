package oauth

import (
	"context"
	"fmt"
	"net/url"
)

// Revoke revokes a token at the revocation endpoint (RFC 7009; hand-written:
// x/oauth2 has no revocation) with the same client authentication as the
// token endpoint. hint ("access_token", "refresh_token") may be "". No
// revocation_endpoint → ErrNotSupported.
func (c *Client) Revoke(ctx context.Context, app App, token, hint string) error {
	const op = "revoke"
	if err := app.check(op, app.Metadata.RevocationEndpoint, "revocation endpoint"); err != nil {
		return err
	}
	if token == "" {
		return fmt.Errorf("%s: empty token", op)
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	header := app.authenticate(form)
	r, err := c.postForm(ctx, op, app.Metadata.RevocationEndpoint, form, header)
	if err != nil {
		return err
	}
	r.secrets = []string{token, app.ClientSecret}
	if !r.ok() {
		return failure(op, r)
	}
	return nil
}
