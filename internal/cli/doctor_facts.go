package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// doctorFacts is everything the checks look at, gathered once before any
// check runs. The checks (doctor_checks.go) read it and nothing else.
type doctorFacts struct {
	// The run's settings.
	name         string // the program's name: the texts and <NAME>_* variables
	goos         string
	mePath       string
	storage      string // auto, file or keyring
	hasKeyring   bool   // the system has a keyring
	clientID     bool   // <NAME>_CLIENT_ID is set
	clientSecret bool   // <NAME>_CLIENT_SECRET is set
	checkTimeout time.Duration
	now          time.Time

	// config
	config configFacts
	cfg    *config.File // config.json as read; nil when unreadable

	// token: the credential the commands would use, and where it came from
	cred         *credentials.Token
	renewable    bool        // the provider can renew cred without the user
	credErr      error       // why none was found
	credFileMode fs.FileMode // the credentials file's mode when it is a regular file
	storedAPI    string      // the API a stored login would be used for
	storedLogin  *config.Login
	hidden       []string // what the credential hides, in resolution order

	// api
	apiTarget string // the API URL under test
	apiFrom   string // where it came from
	apiURLErr error  // why it is refused
	apiURL    string // apiTarget once accepted
	probe     *apiProbe
	date      time.Time // the API's Date header
	dateAt    time.Time // the local time it arrived

	// token-valid
	me *meProbe

	// issuer
	disc *discovery

	// keyring
	keyring *keyringProbe
}

// configFacts is the state of the config directory and config.json. Each
// step is taken only when the one before succeeded.
type configFacts struct {
	dir      string
	dirErr   error // no directory could be determined
	dirStat  error // os.Stat of dir
	dirMode  fs.FileMode
	path     string // config.json
	fileStat error  // os.Stat of path
	fileMode fs.FileMode
	loadErr  error // config.Load
}

// meProbe is the answer to the token on the /me path.
type meProbe struct {
	mintErr  error  // the issuer refused the client credentials
	minted   bool   // the token is a client-credentials token minted for the check
	identity string // who the API says the token is for
	err      error  // the request failed or the API refused the token
	timedOut bool   // the check's deadline passed
}

// discovery is the authorization server found for the token (memoized:
// token-valid needs it to mint client credentials).
type discovery struct {
	issuer   string
	how      string
	md       *oauth.Metadata
	took     time.Duration
	err      error
	timedOut bool // the issuer check's deadline passed
}

// keyringProbe is one read of a keyring entry.
type keyringProbe struct {
	took     time.Duration
	err      error
	key      string // the entry read: a stored login's API, or a probe name
	expected bool   // key holds a stored login
	found    bool
	noTime   bool // the run ended before the keyring answered
}

// doctor gathers the facts of one run. It is read-only: it never
// refreshes a token, mints nothing into the store and writes no file.
type doctor struct {
	a *App
	doctorFacts

	status      map[string]checkStatus // the checks' results so far, by name
	keyringWait chan keyringProbe      // the keyring probe under way
}

func (a *App) newDoctor() *doctor {
	storage := a.storage
	if storage == "" {
		storage = credentials.StorageAuto
	}
	return &doctor{
		a: a,
		doctorFacts: doctorFacts{
			name:         a.Name,
			goos:         a.GOOS,
			mePath:       a.mePath(),
			storage:      storage,
			hasKeyring:   a.Keyring != nil,
			clientID:     a.env("CLIENT_ID") != "",
			clientSecret: a.env("CLIENT_SECRET") != "",
			checkTimeout: doctorCheckTimeout,
			now:          a.Now(),
		},
		status: map[string]checkStatus{},
	}
}

// gather collects every fact, in the order the checks are reported. The
// network steps are each bounded by checkTimeout; the keyring is probed
// meanwhile so that a hanging keyring adds no time.
func (d *doctor) gather(ctx context.Context) {
	d.gatherConfig()
	d.gatherToken(ctx)
	d.startKeyringProbe()
	d.gatherAPI(ctx)
	d.gatherMe(ctx)
	d.gatherIssuer(ctx)
	d.awaitKeyring(ctx)
	d.now = d.a.Now()
}

// --- config -------------------------------------------------------------

func (d *doctor) gatherConfig() {
	c := &d.config
	dir, err := d.a.ConfigDir()
	if err != nil {
		c.dirErr = err
		return
	}
	c.dir, c.path = dir, config.Path(dir)
	di, err := os.Stat(dir)
	c.dirStat = err
	if errors.Is(err, fs.ErrNotExist) {
		d.cfg = &config.File{Version: config.Version}
		return
	}
	if err != nil {
		return
	}
	c.dirMode = di.Mode()
	if !di.IsDir() {
		return
	}
	fi, err := os.Stat(c.path)
	c.fileStat = err
	if err == nil {
		c.fileMode = fi.Mode()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return
	}
	cfg, err := config.Load(dir)
	if err != nil {
		c.loadErr = err
		return
	}
	d.cfg = cfg
}

// --- token --------------------------------------------------------------

// gatherToken resolves the credential as the commands do, read-only.
func (d *doctor) gatherToken(ctx context.Context) {
	a := d.a
	// Client credentials are noted, not minted (Find): a token is minted
	// (and not cached) for token-valid. The file's mode is reported by the
	// check, not warned about.
	p := *a.Provider()
	p.Warn = io.Discard
	d.findStoredLogin()
	cred, err := p.Find(ctx)
	if err != nil {
		d.credErr = err
		return
	}
	d.cred = cred
	d.renewable = cred.Login != nil && p.Renewable(cred)
	if cred.Source == credentials.SourceCredentialsFile {
		if fi, err := os.Stat(cred.Path); err == nil && fi.Mode().IsRegular() {
			d.credFileMode = fi.Mode()
		}
	}
	d.hidden = d.hiddenSources(cred)
}

// findStoredLogin notes the API a stored login would be used for and the
// login stored there (read from config.json, no keyring access).
func (d *doctor) findStoredLogin() {
	if d.cfg == nil {
		return
	}
	api, _ := d.a.credEnv().API("", d.cfg.CurrentAPI)
	d.storedAPI = api
	if l := d.cfg.APIs[api]; l != nil {
		d.storedLogin = l
	}
}

// hiddenSources lists what the credential hides, in resolution order.
func (d *doctor) hiddenSources(cred *credentials.Token) []string {
	a := d.a
	var hidden []string
	if cred.Source == credentials.SourceEnv && d.clientID && d.clientSecret {
		hidden = append(hidden, "the client credentials in "+a.envName("CLIENT_ID"))
	}
	if (cred.Source == credentials.SourceEnv || cred.Source == credentials.SourceClientCredentials) && a.env("CREDENTIALS_FILE") != "" {
		hidden = append(hidden, a.envName("CREDENTIALS_FILE"))
	}
	if cred.Login == nil && d.storedLogin != nil {
		hidden = append(hidden, "the stored login for "+d.storedAPI)
	}
	return hidden
}

// --- api ----------------------------------------------------------------

// gatherAPI finds the API URL under test and probes it (doctor_net.go).
func (d *doctor) gatherAPI(ctx context.Context) {
	d.apiTarget, d.apiFrom = d.findAPI()
	if d.apiTarget == "" {
		return
	}
	if err := d.a.credEnv().CheckAPI(d.apiTarget, d.apiFrom); err != nil {
		d.apiURLErr = err
		return
	}
	d.apiURL = d.apiTarget
	d.probeAPI(ctx)
}

// findAPI is the API URL under test and where it came from.
func (d *doctor) findAPI() (string, string) {
	if d.cred != nil {
		return d.cred.APIURL, d.cred.APIURLFrom
	}
	// The one precedence: --api-url, the env, the config's current API
	// when config.json could be read, and the build's default even when it
	// could not.
	current := ""
	if d.cfg != nil {
		current = d.cfg.CurrentAPI
	}
	return d.a.credEnv().API("", current)
}

// --- token-valid --------------------------------------------------------

// gatherMe sends the token to the /me path, when there is a token and the
// API answers. For client credentials that is the cached token the commands
// would use; when none is cached, one is minted for the check, not cached.
func (d *doctor) gatherMe(ctx context.Context) {
	if d.cred == nil || !apiAnswers(&d.doctorFacts) {
		return
	}
	a := d.a
	ctx, cancel := context.WithTimeout(ctx, d.checkTimeout)
	defer cancel()
	m := &meProbe{}
	d.me = m
	tok := d.cred.Value.Reveal()
	if d.cred.Source == credentials.SourceClientCredentials {
		tok = a.Provider().CachedMint(d.cred)
	}
	if d.cred.Source == credentials.SourceClientCredentials && tok == "" {
		disc := d.discover(ctx)
		if disc.err != nil {
			return
		}
		app := oauth.App{Metadata: disc.md, ClientID: a.env("CLIENT_ID"), ClientSecret: a.env("CLIENT_SECRET"), Scopes: oauth.ParseScopes(a.env("SCOPES"))}
		t, err := a.oauthClient().ClientCredentials(ctx, app)
		if err != nil {
			m.mintErr = err
			return
		}
		tok, m.minted = t.AccessToken, true
	}
	// The token as it is (doctor never renews): a 401 is reported.
	me, err := a.apiClient(&credentials.Token{Value: redact.Secret(tok), APIURL: d.apiURL}).Me(ctx, a.mePath())
	if err != nil {
		m.err = err
		m.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		return
	}
	m.identity = apiclient.Identity(me)
}

// --- issuer -------------------------------------------------------------

// gatherIssuer discovers the authorization server, when a stored login
// names it or the API answers (and can name it).
func (d *doctor) gatherIssuer(ctx context.Context) {
	if !storedIssuer(d.cred) && !apiAnswers(&d.doctorFacts) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.checkTimeout)
	defer cancel()
	disc := d.discover(ctx)
	disc.timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
}

func (d *doctor) discover(ctx context.Context) *discovery {
	if d.disc != nil {
		return d.disc
	}
	a := d.a
	oc := a.oauthClient()
	disc := &discovery{}
	d.disc = disc
	start := a.Now()
	if storedIssuer(d.cred) {
		disc.issuer, disc.how = d.cred.Login.Issuer, "from the stored login"
	} else {
		iss, via, _, err := oc.FindIssuer(ctx, d.apiURL)
		if err != nil {
			disc.err = err
			return disc
		}
		disc.issuer = iss
		disc.how = "guessed from the API host"
		if via == oauth.ViaProtectedResource {
			disc.how = "named by the API"
		}
	}
	if _, err := oauth.CheckURL(disc.issuer); err != nil {
		disc.err = fmt.Errorf("issuer %s: %w", disc.issuer, err)
	} else {
		disc.md, disc.err = oc.Discover(ctx, disc.issuer)
	}
	disc.took = a.Now().Sub(start)
	return disc
}

// --- keyring ------------------------------------------------------------

// keyringLogin is the API whose stored login lives in the keyring, "" when none.
func (d *doctor) keyringLogin() string {
	if s := d.cred; s != nil && s.Login != nil && s.Login.Storage == config.StorageKeyring {
		return s.APIURL
	}
	if d.storedLogin != nil && d.storedLogin.Storage == config.StorageKeyring {
		return d.storedAPI
	}
	return ""
}

// startKeyringProbe reads one keyring entry in the background (bounded by
// the keyring timeout): the stored login's entry when there is one, else
// an entry that does not exist. Nothing is written.
func (d *doctor) startKeyringProbe() {
	if d.storage == credentials.StorageFile || !d.hasKeyring || d.keyringWait != nil {
		return
	}
	a := d.a
	kr := credentials.TimeoutKeyring{Keyring: a.Keyring, Timeout: min(a.keyringTimeout(), d.checkTimeout)}
	probe := keyringProbe{key: d.keyringLogin()}
	probe.expected = probe.key != ""
	if !probe.expected {
		probe.key = "doctor-probe"
	}
	ch := make(chan keyringProbe, 1)
	d.keyringWait = ch
	go func() {
		start := a.Now()
		_, err := kr.Get(a.Name, probe.key)
		probe.took = a.Now().Sub(start)
		probe.found = err == nil
		if errors.Is(err, credentials.ErrKeyringNotFound) {
			err = nil
		}
		probe.err = err
		ch <- probe
	}()
}

// awaitKeyring waits for the keyring probe, if one was started, while the
// run has time left.
func (d *doctor) awaitKeyring(ctx context.Context) {
	if d.keyringWait == nil || d.keyring != nil {
		return
	}
	select {
	case p := <-d.keyringWait:
		d.keyring = &p
	case <-ctx.Done():
		d.keyring = &keyringProbe{noTime: true}
	}
}
