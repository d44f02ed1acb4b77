package scim

import (
	"strings"
)

func spConfig(base string) any {
	return map[string]any{
		"schemas":          []string{URNSPConfig},
		"documentationUri": "https://github.com/tango-iga/tango",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": MaxBulkOps, "maxPayloadSize": MaxBulkBytes},
		"filter":           map[string]any{"supported": true, "maxResults": MaxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A token created with `tango token create --scope scim --name NAME`",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

func schemaDoc(base string, s *Schema) map[string]any {
	attrs := s.Attrs
	return map[string]any{
		"schemas": []string{URNSchema}, "id": s.ID, "name": s.Name, "description": s.Description,
		"attributes": attrs,
		"meta":       map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + s.ID},
	}
}

func schemasDoc(base, id string) any {
	all := []*Schema{userSchema, enterpriseSchema, groupSchema}
	if id != "" {
		for _, s := range all {
			if strings.EqualFold(s.ID, id) {
				return schemaDoc(base, s)
			}
		}
		return errNotFound("no schema %s", id)
	}
	var res []any
	for _, s := range all {
		res = append(res, schemaDoc(base, s))
	}
	return listOf(res)
}

func listOf(res []any) map[string]any {
	return map[string]any{"schemas": []string{URNList}, "totalResults": len(res), "itemsPerPage": len(res), "startIndex": 1, "Resources": res}
}

func resourceTypeDoc(base string, rt *resourceType) map[string]any {
	var ext []any
	for _, e := range rt.Extensions {
		ext = append(ext, map[string]any{"schema": e.ID, "required": false})
	}
	d := map[string]any{
		"schemas": []string{URNResourceType}, "id": rt.Name, "name": rt.Name, "endpoint": rt.Endpoint,
		"description": rt.Schema.Description, "schema": rt.Schema.ID,
		"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + rt.Name},
	}
	if ext != nil {
		d["schemaExtensions"] = ext
	}
	return d
}

func resourceTypesDoc(base, id string) any {
	all := []*resourceType{userType, groupType}
	if id != "" {
		for _, rt := range all {
			if strings.EqualFold(rt.Name, id) {
				return resourceTypeDoc(base, rt)
			}
		}
		return errNotFound("no resource type %s", id)
	}
	var res []any
	for _, rt := range all {
		res = append(res, resourceTypeDoc(base, rt))
	}
	return listOf(res)
}
