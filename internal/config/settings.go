package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// DecodeSettings fills out, a pointer to a struct with yaml tags, from an
// app's Settings as tango.yaml gave them (after ${env:…} and ${file:…}
// expansion), without encoding them again. Struct fields of out are
// nested keys (account.dn); fields of string, bool, int, float64, []string,
// map[string]string and map[string][]string take the value as YAML would
// (any scalar reads as a string).
//
// An app's keys are shared between provisioning and its connector, so a
// key out does not read is not an error: it is returned, as a dotted path,
// in unknown, for the caller to check against every reader of the app.
// errs has one error per key of the wrong type, naming the key.
func DecodeSettings(settings map[string]any, out any) (unknown []string, errs []error) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config.DecodeSettings: %T is not a pointer to a struct", out))
	}
	decodeStruct(settings, v.Elem(), "", &unknown, &errs)
	sort.Strings(unknown)
	return unknown, errs
}

func decodeStruct(m map[string]any, v reflect.Value, prefix string, unknown *[]string, errs *[]error) {
	fields := map[string]int{}
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" && t.Field(i).IsExported() {
			fields[name] = i
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i, ok := fields[k]
		if !ok {
			leaves(prefix+k, m[k], unknown)
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			switch sub := m[k].(type) {
			case nil:
			case map[string]any:
				decodeStruct(sub, f, prefix+k+".", unknown, errs)
			default:
				*errs = append(*errs, fmt.Errorf("%s%s: want a mapping, not %s", prefix, k, describe(m[k])))
			}
			continue
		}
		if err := decodeValue(m[k], f); err != nil {
			*errs = append(*errs, fmt.Errorf("%s%s: %v", prefix, k, err))
		}
	}
}

// leaves records the dotted paths of every value under key, so that a key
// two readers share (account) is unknown only where neither reads it.
func leaves(key string, val any, out *[]string) {
	sub, ok := val.(map[string]any)
	if !ok || len(sub) == 0 {
		*out = append(*out, key)
		return
	}
	for k, e := range sub {
		leaves(key+"."+k, e, out)
	}
}

func decodeValue(val any, f reflect.Value) error {
	if val == nil {
		f.SetZero()
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		s, ok := scalar(val)
		if !ok {
			return fmt.Errorf("want a string, not %s", describe(val))
		}
		f.SetString(s)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("want true or false, not %s", describe(val))
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		switch n := val.(type) {
		case int:
			f.SetInt(int64(n))
		case int64:
			f.SetInt(n)
		case uint64:
			f.SetInt(int64(n))
		default:
			return fmt.Errorf("want a whole number, not %s", describe(val))
		}
	case reflect.Float64:
		switch n := val.(type) {
		case int:
			f.SetFloat(float64(n))
		case int64:
			f.SetFloat(float64(n))
		case uint64:
			f.SetFloat(float64(n))
		case float64:
			f.SetFloat(n)
		default:
			return fmt.Errorf("want a number, not %s", describe(val))
		}
	case reflect.Slice:
		list, ok := val.([]any)
		if !ok {
			return fmt.Errorf("want a list, not %s", describe(val))
		}
		s := reflect.MakeSlice(f.Type(), len(list), len(list))
		for i, e := range list {
			if err := decodeValue(e, s.Index(i)); err != nil {
				return fmt.Errorf("item %d: %v", i+1, err)
			}
		}
		f.Set(s)
	case reflect.Map:
		m, ok := val.(map[string]any)
		if !ok {
			return fmt.Errorf("want a mapping, not %s", describe(val))
		}
		out := reflect.MakeMapWithSize(f.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(f.Type().Elem()).Elem()
			if err := decodeValue(e, ev); err != nil {
				return fmt.Errorf("%s: %v", k, err)
			}
			out.SetMapIndex(reflect.ValueOf(k), ev)
		}
		f.Set(out)
	default:
		panic(fmt.Sprintf("config.DecodeSettings: field type %s is not supported", f.Type()))
	}
	return nil
}

func scalar(val any) (string, bool) {
	switch x := val.(type) {
	case string:
		return x, true
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x), true
	}
	return "", false
}

func describe(val any) string {
	switch val.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%#v", val)
}
