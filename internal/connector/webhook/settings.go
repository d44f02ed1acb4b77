package webhook

import "time"

// Settings are a webhook app's keys in tango.yaml (beside the keys every
// app has: account.attributes, correlate.person, drift, …).
type Settings struct {
	URL      string            `yaml:"url"`
	Secret   string            `yaml:"secret"`
	ListURL  string            `yaml:"list_url"`
	Headers  map[string]string `yaml:"headers"`
	PageSize int               `yaml:"page_size"`
}

// Validate reports what New would refuse; it makes no request.
func (s Settings) Validate() error {
	c, err := New(s, "")
	if err != nil {
		return err
	}
	return c.Close()
}

// New builds the connector of the configured app named app. Its requests
// are retried twice, waiting at most 5 s: provisioning schedules longer
// waits itself.
func New(s Settings, app string) (*Connector, error) {
	return FromConfig(Config{URL: s.URL, Secret: s.Secret, ListURL: s.ListURL, Headers: s.Headers,
		AppName: app, PageSize: s.PageSize, MaxRetries: 2, MaxRetryWait: 5 * time.Second})
}
