package autotask

import (
	"net/http"
	"strings"
)

// RoutesForTest lists every method and path the sandbox serves, with ids
// filled in, so tests can check each against Autotask's document.
func RoutesForTest() []string {
	var out []string
	for _, m := range builtinModels() {
		key := strings.ToLower(m.name)
		if !notQueryableEntity[key] {
			for _, p := range []string{"/query", "/query/count"} {
				out = append(out, "GET "+m.name+p, "POST "+m.name+p)
			}
			out = append(out, "GET "+m.name+"/1")
		}
		for _, p := range []string{"/entityInformation", "/entityInformation/fields", "/entityInformation/userDefinedFields"} {
			out = append(out, "GET "+m.name+p)
		}
		if rootCreate[key] {
			out = append(out, "POST "+m.name)
		}
		if rootUpdate[key] {
			out = append(out, "PATCH "+m.name)
		}
	}
	for k, ch := range children {
		parent, child, _ := strings.Cut(k, "/")
		base := parent + "/7/" + child
		if ch.get {
			out = append(out, http.MethodGet+" "+base, http.MethodGet+" "+base+"/1")
		}
		if ch.create {
			out = append(out, http.MethodPost+" "+base)
		}
		if ch.update {
			out = append(out, http.MethodPatch+" "+base)
		}
	}
	return append(out, "GET ThresholdInformation", "GET zoneInformation")
}
