package ldap

import (
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// Settings are an ldap app's keys in tango.yaml (beside the keys every app
// has: account.dn, account.attributes, correlate.person, drift, …).
type Settings struct {
	URL                string `yaml:"url"`
	BindDN             string `yaml:"bind_dn"`
	BindPassword       string `yaml:"bind_password"`
	BaseDN             string `yaml:"base_dn"`
	GroupBaseDN        string `yaml:"group_base_dn"`
	StartTLS           bool   `yaml:"start_tls"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	CAFile             string `yaml:"ca_file"`
	PageSize           int    `yaml:"page_size"`
	// LastActivityAttribute holds when an account last signed in, read by
	// reconcile for access reviews: default authTimestamp (OpenLDAP's
	// lastbind overlay or ppolicy), lastLogonTimestamp with
	// disable.active_directory; "none" reads nothing.
	LastActivityAttribute string `yaml:"last_activity_attribute"`
	Account               struct {
		ObjectClasses []string `yaml:"object_classes"`
	} `yaml:"account"`
	Correlate struct {
		// AccountAttribute holds the correlation key; default employeeNumber.
		AccountAttribute string `yaml:"account_attribute"`
	} `yaml:"correlate"`
	Disable struct {
		Replace         map[string][]string `yaml:"replace"`
		MoveTo          string              `yaml:"move_to"`
		ActiveDirectory bool                `yaml:"active_directory"`
	} `yaml:"disable"`
}

// Validate reports what New would refuse, without reading ca_file nor
// connecting.
func (s Settings) Validate() error {
	c, err := FromConfig(s.config())
	if err != nil {
		return err
	}
	return c.Close()
}

// New builds the connector of an app from its settings, reading ca_file.
// It does not connect: the first operation does.
func New(s Settings) (*Connector, error) {
	cfg := s.config()
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", s.CAFile)
		}
	}
	return FromConfig(cfg)
}

// Config is the connector configuration the settings make (without
// ca_file's pool).
func (s Settings) Config() Config { return s.config() }

func (s Settings) config() Config {
	cfg := Config{URL: s.URL, BindDN: s.BindDN, Password: s.BindPassword, BaseDN: s.BaseDN,
		GroupBaseDN: s.GroupBaseDN, StartTLS: s.StartTLS, InsecureSkipVerify: s.InsecureSkipVerify,
		ObjectClasses: s.Account.ObjectClasses, KeyAttribute: s.Correlate.AccountAttribute, PageSize: s.PageSize}
	if cfg.KeyAttribute == "" {
		cfg.KeyAttribute = "employeeNumber"
	}
	switch a := strings.TrimSpace(s.LastActivityAttribute); {
	case strings.EqualFold(a, "none"):
	case a != "":
		cfg.LastActivityAttribute = a
	case s.Disable.ActiveDirectory:
		cfg.LastActivityAttribute = "lastLogonTimestamp"
	default:
		cfg.LastActivityAttribute = "authTimestamp"
	}
	cfg.Disable.Replace = s.Disable.Replace
	cfg.Disable.MoveTo = s.Disable.MoveTo
	cfg.Disable.ActiveDirectory = s.Disable.ActiveDirectory
	return cfg
}
