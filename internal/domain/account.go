package domain

import "time"

// Account is a person's identity inside an app, as Tango wants it or as
// the app reports it. Its JSON (snake_case) is how queued operations store
// it and how the API shows it; decoding is case-insensitive, so accounts
// stored with the Go field names ("ID", "Key") still read.
type Account struct {
	// ID is the app's own identifier: the DN for LDAP, the resource id for SCIM.
	// Empty for an account Tango has not created yet.
	ID string `json:"id,omitempty"`
	// Key is the correlation value (for example the employee number) that
	// ties the account to a person.
	Key string `json:"key"`
	// Name is the human-readable login (uid, userName).
	Name string `json:"name,omitempty"`
	// Attributes are the app attributes Tango manages (single or multi-valued).
	Attributes map[string][]string `json:"attributes,omitempty"`
	// Entitlements are the app entitlements the account holds (group DNs,
	// SCIM group display names or ids, licences).
	Entitlements []string `json:"entitlements,omitempty"`
	// Disabled is true when the app reports the account as disabled.
	Disabled bool `json:"disabled,omitempty"`
	// LastActivity is when the person last used the account, where the app
	// reports it (LDAP authTimestamp or lastLogonTimestamp, a SCIM app's
	// configured last-login attribute); zero when it does not. Read, never
	// written.
	LastActivity time.Time `json:"last_activity,omitzero"`
}
