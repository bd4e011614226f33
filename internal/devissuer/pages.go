package devissuer

import (
	"bytes"
	"html/template"
	"net/http"
)

const pageLayout = `{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · sesame dev issuer</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #222; line-height: 1.5; }
h1 { font-size: 1.5rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input[type=text] { font-size: 1.1rem; padding: .4rem; width: 100%; box-sizing: border-box; }
.buttons { margin-top: 1.5rem; }
button { font-size: 1rem; padding: .5rem 1.2rem; margin-right: .5rem; }
#approve { background: #1a7f37; color: #fff; border: 0; }
#deny { background: #eee; border: 1px solid #999; }
code, .scopes li { font-family: ui-monospace, monospace; }
.note { color: #666; font-size: .9rem; margin-top: 2rem; }
</style>
</head>
<body>
{{end}}
{{define "foot"}}<p class="note">sesame development authorization server — for tests and demos only.</p>
</body>
</html>
{{end}}

{{define "device"}}{{template "head" "Activate a device"}}<h1>Activate a device</h1>
{{if .ClientName}}<p><strong>{{.ClientName}}</strong> wants access to:</p>
<ul class="scopes">{{range .Scopes}}<li>{{.}}</li>{{else}}<li>(no scopes)</li>{{end}}</ul>
{{else}}<p>Enter the code shown on your device.</p>{{end}}
<form method="post" action="/device">
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" value="{{.UserCode}}" placeholder="XXXX-XXXX" autocomplete="off" autocapitalize="characters" required>
{{template "decide" .Username}}</form>
{{template "foot"}}{{end}}

{{define "decide"}}<label for="username">Sign in as</label>
<input type="text" id="username" name="username" value="{{.}}">
<div class="buttons">
<button type="submit" id="approve" name="action" value="approve">Approve</button>
<button type="submit" id="deny" name="action" value="deny">Deny</button>
</div>
{{end}}

{{define "consent"}}{{template "head" "Authorize"}}<h1>Authorize {{.ClientName}}</h1>
<p><strong>{{.ClientName}}</strong> wants access to:</p>
<ul class="scopes">{{range .Scopes}}<li>{{.}}</li>{{else}}<li>(no scopes)</li>{{end}}</ul>
<form method="post" action="/authorize/decision">
<input type="hidden" name="request_id" value="{{.RequestID}}">
{{template "decide" .Username}}</form>
{{template "foot"}}{{end}}

{{define "result"}}{{template "head" .Title}}<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{template "foot"}}{{end}}
`

type devicePageData struct {
	UserCode   string
	Username   string
	ClientName string
	Scopes     []string
}

type consentPageData struct {
	ClientName string
	Scopes     []string
	RequestID  string
	Username   string
}

type resultPageData struct {
	Title, Message string
}

func parsePages() *template.Template {
	return template.Must(template.New("pages").Parse(pageLayout))
}

func (s *Server) renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) renderResult(w http.ResponseWriter, status int, title, msg string) {
	s.renderPage(w, status, "result", resultPageData{Title: title, Message: msg})
}
