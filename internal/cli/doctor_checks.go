package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
)

// The checks are pure functions of the facts (doctor_facts.go): no I/O,
// no App. Each is total: a fact that was not gathered gives a skip or a
// failure, never a panic.

func (f *doctorFacts) envName(key string) string { return buildinfo.EnvName(f.name, key) }

// hintFor is the hint exit.go would print for err (classify reads only
// the program's name).
func (f *doctorFacts) hintFor(err error) string { return (&App{Name: f.name}).hintFor(err) }

// hintFor is the hint exit.go would print for err.
func (a *App) hintFor(err error) string {
	_, hint := a.classify(err)
	var h *hinted
	if errors.As(err, &h) {
		hint = h.hint
	}
	return hint
}

// --- config -------------------------------------------------------------

func checkConfig(f *doctorFacts) checkResult {
	c := &f.config
	if c.dirErr != nil {
		return fail(c.dirErr.Error(), f.hintFor(c.dirErr))
	}
	dir, path := c.dir, c.path
	if errors.Is(c.dirStat, fs.ErrNotExist) {
		return pass("no config directory yet (" + dir + " is created at the first login)")
	}
	if c.dirStat != nil {
		return fail("config directory "+dir+": "+fsProblem(c.dirStat), "check the permissions of "+dir)
	}
	if !c.dirMode.IsDir() {
		return fail(dir+" is not a directory", "remove it, or set "+f.envName("CONFIG_DIR")+" to another directory")
	}
	exists := c.fileStat == nil
	if c.fileStat != nil && !errors.Is(c.fileStat, fs.ErrNotExist) {
		return fail(path+": "+fsProblem(c.fileStat), "check the permissions of "+path)
	}
	if c.loadErr != nil {
		return fail(c.loadErr.Error(), f.hintFor(c.loadErr))
	}
	if f.goos == "windows" {
		if !exists {
			return pass(dir + " (no config.json yet)")
		}
		return pass(path + " is readable")
	}
	if exists {
		if perm := c.fileMode.Perm(); perm&0o077 != 0 {
			msg := fmt.Sprintf("%s is %s by other users (mode %04o)", path, openWords(perm), perm)
			if f.cfg != nil && holdsTokens(f.cfg) {
				msg += " and holds tokens"
			}
			return fail(msg, "chmod 600 "+path)
		}
	}
	if perm := c.dirMode.Perm(); perm&0o077 != 0 {
		return warn(fmt.Sprintf("config directory %s is %s by other users (mode %04o)", dir, openWords(perm), perm), "chmod 700 "+dir)
	}
	if !exists {
		return pass(fmt.Sprintf("%s (mode %04o), no config.json yet", dir, c.dirMode.Perm()))
	}
	return pass(fmt.Sprintf("%s is private (mode %04o, directory %04o)", path, c.fileMode.Perm(), c.dirMode.Perm()))
}

func openWords(perm fs.FileMode) string {
	switch {
	case perm&0o044 != 0 && perm&0o022 != 0:
		return "readable and writable"
	case perm&0o044 != 0:
		return "readable"
	case perm&0o022 != 0:
		return "writable"
	}
	return "accessible"
}

func holdsTokens(cfg *config.File) bool {
	for _, l := range cfg.APIs {
		if l != nil && (l.AccessToken != "" || l.RefreshToken != "") {
			return true
		}
	}
	for _, m := range cfg.Minted {
		if m != nil && m.AccessToken != "" {
			return true
		}
	}
	return false
}

func fsProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// --- token --------------------------------------------------------------

func checkToken(f *doctorFacts) checkResult {
	cred := f.cred
	if cred == nil {
		err := f.credErr
		if err == nil {
			err = credentials.ErrNoCredential
		}
		var input *credentials.InputError
		switch {
		case errors.Is(err, credentials.ErrNoCredential):
			hint := f.hintFor(err)
			if set, unset, ok := halfClientCredentials(f); ok {
				hint = "set " + unset + " too (" + set + " is set), or run '" + f.name + " login'"
			}
			return fail("no token: "+err.Error(), hint)
		case errors.As(err, &input):
			return fail(err.Error(), "fix "+input.What)
		}
		return fail("cannot read the token: "+err.Error(), f.hintFor(err))
	}
	msg := cred.SourceDetail
	if s := cred.Login; s != nil {
		var about []string
		if s.User != "" {
			about = append(about, s.User)
		}
		if s.Method != "" {
			about = append(about, s.Method+" login")
		}
		if len(about) > 0 {
			msg += " (" + strings.Join(about, ", ") + ")"
		}
	}
	var warnings []string
	hint := ""
	if cred.Source == credentials.SourceCredentialsFile && f.goos != "windows" {
		if perm := f.credFileMode.Perm(); perm&0o077 != 0 {
			warnings = append(warnings, fmt.Sprintf("the file is %s by other users (mode %04o)", openWords(perm), perm))
			hint = "chmod 600 " + cred.Path
		}
	}
	if hidden := f.hidden; len(hidden) > 0 {
		warnings = append(warnings, "it hides "+strings.Join(hidden, " and "))
		if hint == "" {
			hint = "unset " + sourceVars(f, cred.Source) + " to use " + hidden[len(hidden)-1]
		}
	}
	if set, unset, ok := halfClientCredentials(f); ok && cred.Source != credentials.SourceEnv {
		warnings = append(warnings, set+" is set without "+unset+", so client credentials are not used")
		if hint == "" {
			hint = "set both " + f.envName("CLIENT_ID") + " and " + f.envName("CLIENT_SECRET") + ", or neither"
		}
	}
	if len(warnings) > 0 {
		return warn(msg+"; "+strings.Join(warnings, "; "), hint)
	}
	return pass(msg)
}

// halfClientCredentials reports one of <NAME>_CLIENT_ID and
// <NAME>_CLIENT_SECRET set without the other.
func halfClientCredentials(f *doctorFacts) (set, unset string, ok bool) {
	switch {
	case f.clientID && !f.clientSecret:
		return f.envName("CLIENT_ID"), f.envName("CLIENT_SECRET"), true
	case f.clientSecret && !f.clientID:
		return f.envName("CLIENT_SECRET"), f.envName("CLIENT_ID"), true
	}
	return "", "", false
}

// sourceVars names the variables behind a source.
func sourceVars(f *doctorFacts, s credentials.Source) string {
	switch s {
	case credentials.SourceEnv:
		return f.envName("TOKEN")
	case credentials.SourceClientCredentials:
		return f.envName("CLIENT_ID") + " and " + f.envName("CLIENT_SECRET")
	case credentials.SourceCredentialsFile:
		return f.envName("CREDENTIALS_FILE")
	}
	return string(s)
}

// storedIssuer reports a credential from a stored login that names its
// authorization server.
func storedIssuer(c *credentials.Token) bool {
	return c != nil && c.Login != nil && c.Login.Issuer != ""
}

// --- keyring ------------------------------------------------------------

func checkKeyring(f *doctorFacts) checkResult {
	mode := f.storage
	switch {
	case mode == credentials.StorageFile:
		return skip("not used: storage is file (tokens are kept in config.json)")
	case !f.hasKeyring:
		return skip("no keyring on this system")
	case f.keyring == nil || f.keyring.noTime:
		return fail("no time left to wait for the keyring", "try again")
	}
	p := f.keyring
	var remembered *config.KeyringFailure
	if f.cfg != nil {
		remembered = f.cfg.KeyringUnavailable
	}
	fileHint := "use --storage file (or " + f.envName("STORAGE") + "=file) to store tokens in the config file"
	if p.err != nil {
		reason := p.err.Error()
		var ke *credentials.KeyringError
		if errors.As(p.err, &ke) {
			reason = ke.Err.Error()
		}
		msg := "the OS keyring does not answer: " + reason
		switch {
		case p.expected:
			return fail(msg+"; the token for "+p.key+" is stored there", "unlock or start the keyring, or run '"+f.name+" login --storage file'")
		case mode == credentials.StorageKeyring:
			return fail(msg+" (storage is keyring)", fileHint)
		case remembered != nil:
			return warn(msg+"; it failed before ("+remembered.Reason+"), so tokens are kept in config.json", "fix the keyring, or set "+f.envName("STORAGE")+"=file to stop trying it")
		}
		return warn(msg+"; tokens will be kept in config.json", "fix the keyring, or set "+f.envName("STORAGE")+"=file to stop trying it")
	}
	took := "answers in " + ms(p.took)
	switch {
	case p.expected && !p.found:
		return fail("the keyring "+took+" but has no entry for "+p.key+", though config.json says the token is there", "run '"+f.name+" login' again")
	case mode == credentials.StorageAuto && remembered != nil && !p.expected:
		return warn(fmt.Sprintf("the keyring %s now, but failed on %s (%s), so tokens are kept in config.json", took, remembered.At.UTC().Format(time.DateOnly), remembered.Reason),
			"log in once with --storage keyring to keep tokens in the keyring again")
	case p.expected:
		return pass("the OS keyring " + took + " and holds the token for " + p.key)
	}
	return pass("the OS keyring " + took)
}

// --- expiry -------------------------------------------------------------

func checkExpiry(f *doctorFacts) checkResult {
	c := f.cred
	switch {
	case c == nil:
		return skip("no token")
	case c.Source == credentials.SourceClientCredentials:
		return skip("client-credentials tokens are minted when needed")
	case c.Login == nil:
		return skip("the expiry of a token from " + sourceVars(f, c.Source) + " is not known to " + f.name)
	}
	s := c.Login
	rt := f.renewable
	refresh := "no refresh token"
	switch {
	case s.RefreshToken != "":
		refresh = "a refresh token is stored"
	case rt:
		refresh = "minted again with " + f.envName("CLIENT_SECRET")
	}
	if s.ExpiresAt.IsZero() {
		return pass("no expiry recorded; " + refresh)
	}
	left := s.ExpiresAt.Sub(f.now)
	switch {
	case left > 0 && rt:
		return pass("expires in " + durationWords(left) + "; " + refresh + " (renewed automatically)")
	case left > 0 && left <= credentials.RefreshMargin:
		return warn("expires in "+durationWords(left)+" and cannot be renewed ("+refresh+")", "run '"+f.name+" login' again")
	case left > 0:
		return pass("expires in " + durationWords(left) + "; " + refresh + " (log in again then)")
	case rt:
		return warn("expired "+durationWords(-left)+" ago; doctor does not refresh it, the next command will ("+refresh+")",
			"run '"+f.name+" whoami' to refresh it now")
	}
	return fail("expired "+durationWords(-left)+" ago and cannot be renewed ("+refresh+")", "run '"+f.name+" login' again")
}

// --- clock --------------------------------------------------------------

// maxClockSkew is the skew above which clock warns.
const maxClockSkew = 60 * time.Second

func checkClock(f *doctorFacts) checkResult {
	switch {
	case f.apiURL == "":
		return skip("the API is not reachable")
	case f.date.IsZero():
		return skip("the API sent no Date header")
	}
	// Date has whole seconds: compare with the local time truncated too.
	skew := f.date.Sub(f.dateAt.Truncate(time.Second))
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	if abs < 2*time.Second {
		return pass("the local clock agrees with the API's Date header (within a second)")
	}
	side := "behind"
	if skew < 0 {
		side = "ahead of"
	}
	msg := "the local clock is " + durationWords(abs) + " " + side + " the API's Date header"
	if abs > maxClockSkew {
		return warn(msg, "set the system clock (enable NTP): expiry times are judged by it")
	}
	return pass(msg)
}
