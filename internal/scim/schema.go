package scim

import (
	"strings"
)

// Schema URNs.
const (
	URNUser         = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNGroup        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNList         = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNPatch        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	URNBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	URNBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	URNSPConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URNSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attribute types, mutabilities and returned values (RFC 7643 section 7).
const (
	tString    = "string"
	tBool      = "boolean"
	tComplex   = "complex"
	tReference = "reference"
	tDateTime  = "dateTime"

	mReadWrite = "readWrite"
	mReadOnly  = "readOnly"
	mWriteOnly = "writeOnly"
	mImmutable = "immutable"

	rDefault = "default"
	rAlways  = "always"
	rNever   = "never"
)

// Attr is an attribute definition of a schema.
type Attr struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Multi       bool     `json:"multiValued"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required"`
	CaseExact   bool     `json:"caseExact"`
	Mutability  string   `json:"mutability"`
	Returned    string   `json:"returned"`
	Uniqueness  string   `json:"uniqueness"`
	Canonical   []string `json:"canonicalValues,omitempty"`
	RefTypes    []string `json:"referenceTypes,omitempty"`
	Sub         []*Attr  `json:"subAttributes,omitempty"`
}

// Schema is a SCIM schema definition.
type Schema struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Attrs       []*Attr `json:"attributes"`
}

func (s *Schema) attr(name string) *Attr { return findAttr(s.Attrs, name) }

func findAttr(as []*Attr, name string) *Attr {
	for _, a := range as {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func str(name string, opts ...func(*Attr)) *Attr {
	a := &Attr{Name: name, Type: tString, Mutability: mReadWrite, Returned: rDefault, Uniqueness: "none"}
	for _, o := range opts {
		o(a)
	}
	return a
}

func typ(t string) func(*Attr) { return func(a *Attr) { a.Type = t } }
func mut(m string) func(*Attr) { return func(a *Attr) { a.Mutability = m } }
func ret(r string) func(*Attr) { return func(a *Attr) { a.Returned = r } }
func multi(a *Attr)            { a.Multi = true }
func exact(a *Attr)            { a.CaseExact = true }
func required(a *Attr)         { a.Required = true }
func server(a *Attr)           { a.Uniqueness = "server" }
func sub(s ...*Attr) func(*Attr) {
	return func(a *Attr) { a.Type = tComplex; a.Sub = s }
}
func refs(t ...string) func(*Attr) {
	return func(a *Attr) { a.Type = tReference; a.RefTypes = t }
}

// multiValued is the usual shape of a multi-valued complex attribute.
func multiValued(name string, types []string, extra ...*Attr) *Attr {
	s := append([]*Attr{str("value"), str("display"), str("type", func(a *Attr) { a.Canonical = types }),
		str("primary", typ(tBool))}, extra...)
	return str(name, multi, sub(s...))
}

var userSchema = &Schema{ID: URNUser, Name: "User", Description: "User Account", Attrs: []*Attr{
	str("userName", required, server),
	str("name", sub(str("formatted"), str("familyName"), str("givenName"), str("middleName"),
		str("honorificPrefix"), str("honorificSuffix"))),
	str("displayName"), str("nickName"), str("profileUrl", refs("external")), str("title"), str("userType"),
	str("preferredLanguage"), str("locale"), str("timezone"),
	str("active", typ(tBool)),
	str("password", mut(mWriteOnly), ret(rNever)),
	multiValued("emails", []string{"work", "home", "other"}),
	multiValued("phoneNumbers", []string{"work", "home", "mobile", "fax", "pager", "other"}),
	multiValued("ims", nil),
	multiValued("photos", []string{"photo", "thumbnail"}),
	str("addresses", multi, sub(str("formatted"), str("streetAddress"), str("locality"), str("region"),
		str("postalCode"), str("country"), str("type"), str("primary", typ(tBool)))),
	str("groups", multi, mut(mReadOnly), sub(str("value", mut(mReadOnly)), str("$ref", refs("Group"), mut(mReadOnly)),
		str("display", mut(mReadOnly)), str("type", mut(mReadOnly)))),
	multiValued("entitlements", nil),
	multiValued("roles", nil),
	multiValued("x509Certificates", nil),
}}

var enterpriseSchema = &Schema{ID: URNEnterprise, Name: "EnterpriseUser", Description: "Enterprise User", Attrs: []*Attr{
	str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
	str("manager", sub(str("value"), str("$ref", refs("User")), str("displayName", mut(mReadOnly)))),
}}

var groupSchema = &Schema{ID: URNGroup, Name: "Group", Description: "Group", Attrs: []*Attr{
	str("displayName", required),
	str("members", multi, sub(str("value", mut(mImmutable)), str("$ref", refs("User", "Group"), mut(mImmutable)),
		str("display", mut(mImmutable)), str("type", mut(mImmutable), func(a *Attr) { a.Canonical = []string{"User", "Group"} }))),
}}

// common attributes every resource has (RFC 7643 section 3.1).
var commonAttrs = []*Attr{
	str("id", mut(mReadOnly), ret(rAlways), exact, server),
	str("externalId", exact),
	str("meta", mut(mReadOnly), sub(str("resourceType", mut(mReadOnly)), str("created", typ(tDateTime), mut(mReadOnly)),
		str("lastModified", typ(tDateTime), mut(mReadOnly)), str("location", mut(mReadOnly), refs("uri")),
		str("version", mut(mReadOnly), exact))),
}

// resourceType is a served resource type with its schemas.
type resourceType struct {
	Name       string
	Endpoint   string
	Schema     *Schema
	Extensions []*Schema
}

var (
	userType  = &resourceType{Name: "User", Endpoint: "/Users", Schema: userSchema, Extensions: []*Schema{enterpriseSchema}}
	groupType = &resourceType{Name: "Group", Endpoint: "/Groups", Schema: groupSchema}
)

// extension returns the extension schema with the URN, if the type has it.
func (rt *resourceType) extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.ID, urn) {
			return e
		}
	}
	return nil
}

// lookupAttr resolves an attribute named by URN (may be empty or the core
// URN) and name: the schema it belongs to (nil for common attributes
// and core ones) and its definition.
func (rt *resourceType) lookupAttr(urn, name string) (ext *Schema, a *Attr) {
	if urn == "" || strings.EqualFold(urn, rt.Schema.ID) {
		if a := findAttr(commonAttrs, name); a != nil {
			return nil, a
		}
		return nil, rt.Schema.attr(name)
	}
	if e := rt.extension(urn); e != nil {
		return e, e.attr(name)
	}
	return nil, nil
}

// caseExact tells the filter evaluator which attributes compare exactly.
func (rt *resourceType) caseExact(p attrPath) bool {
	ext, a := rt.lookupAttr(p.URN, p.Name)
	_ = ext
	if a == nil {
		return false
	}
	if p.Sub != "" {
		s := findAttr(a.Sub, p.Sub)
		return s != nil && s.CaseExact
	}
	return a.CaseExact
}
