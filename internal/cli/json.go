package cli

import (
	"encoding/json"
	"io"
)

// writeJSON writes v to w as indented JSON ending in a newline, without
// HTML escaping: an identity "<a@example.com>" stays as it is, not
// "\u003ca@example.com\u003e". Every --json output goes through it.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
