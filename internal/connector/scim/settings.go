package scim

import "time"

// Settings are a scim app's keys in tango.yaml (beside the keys every app
// has: account.attributes, correlate.person, drift, …).
type Settings struct {
	URL      string `yaml:"url"`
	Token    string `yaml:"token"`
	PageSize int    `yaml:"page_size"`
	// RevokeSessionsPath: see Config.RevokeSessionsPath.
	RevokeSessionsPath string `yaml:"revoke_sessions_path"`
	// LastLoginAttribute: see Config.LastLoginAttribute.
	LastLoginAttribute string `yaml:"last_login_attribute"`
	Correlate          struct {
		// AccountAttribute holds the correlation key: externalId (default) or userName.
		AccountAttribute string `yaml:"account_attribute"`
	} `yaml:"correlate"`
}

// Validate reports what New would refuse; it makes no request.
func (s Settings) Validate() error {
	c, err := New(s)
	if err != nil {
		return err
	}
	return c.Close()
}

// New builds the connector of a configured app. Its requests are retried
// twice, waiting at most 5 s: provisioning schedules longer waits itself.
func New(s Settings) (*Connector, error) {
	key := s.Correlate.AccountAttribute
	if key == "" {
		key = "externalId"
	}
	return FromConfig(Config{BaseURL: s.URL, Token: s.Token, PageSize: s.PageSize, KeyAttribute: key,
		MaxRetries: 2, MaxRetryWait: 5 * time.Second, RevokeSessionsPath: s.RevokeSessionsPath,
		LastLoginAttribute: s.LastLoginAttribute})
}
