package authz

import (
	"fmt"
	"net/http"
)

// Service is an API area whose routes need one permission family.
type Service string

// The services of the public API.
const (
	ServiceKV      Service = "kv"
	ServiceD1      Service = "d1"
	ServiceDO      Service = "do"
	ServiceTokens  Service = "tokens"
	ServiceAccount Service = "account"
	ServiceCluster Service = "cluster"
)

// PermissionFor is the permission a request to service with HTTP method
// needs: read for GET, HEAD and OPTIONS, write for every other method
// (including unknown ones). Routes that read through a POST (e.g. a
// bulk get, a D1 read-only query) must ask for the read permission
// themselves.
func PermissionFor(service Service, method string) (Permission, error) {
	level := "write"
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		level = "read"
	}
	switch service {
	case ServiceKV, ServiceD1, ServiceDO, ServiceTokens, ServiceAccount, ServiceCluster:
		return Permission(string(service) + "." + level), nil
	}
	return "", fmt.Errorf("unknown service %q", service)
}
