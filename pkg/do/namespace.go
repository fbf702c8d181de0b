package do

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/wsroom"
)

// Namespace attributes, kept in the catalog resource's Attrs.
const (
	attrLocationHint     = "location_hint"
	attrAlarmWebhook     = "alarm_webhook"
	attrWebsocketHistory = "websocket_history"
)

// nsBase is the collection path of namespaces below the account.
const nsBase = "/client/v4/accounts/{account_id}/durable_objects/namespaces"

// Namespace is a namespace as the API shows it.
type Namespace struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	CreatedOn        string `json:"created_on"`
	LocationHint     string `json:"location_hint,omitempty"`
	AlarmWebhook     string `json:"alarm_webhook,omitempty"`
	WebsocketHistory int    `json:"websocket_history"`
}

// NamespaceKind is the catalog resource kind of namespaces, served by the
// generic resource handlers.
func NamespaceKind() api.ResourceKind {
	return api.ResourceKind{
		Kind:      catalog.KindDONamespace,
		Service:   serviceName,
		Path:      "durable_objects/namespaces",
		IDParam:   "namespace_id",
		NameField: "name",
		Attrs:     []string{attrLocationHint, attrAlarmWebhook, attrWebsocketHistory},
		// The location hint stays: changing it would move the objects.
		UpdateAttrs:     []string{attrAlarmWebhook, attrWebsocketHistory},
		MaxAttrBytes:    MaxWebhookBytes,
		ValidateAttrs:   validateAttrs,
		NotFoundCode:    api.CodeDONamespaceNotFound,
		NotFoundMessage: nsNotFoundMessage,
		View:            func(r catalog.Resource) any { return NamespaceView(r) },
	}
}

// NamespaceView renders a namespace resource.
func NamespaceView(r catalog.Resource) Namespace {
	return Namespace{ID: r.ID, Name: r.Name, CreatedOn: r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		LocationHint: r.Attrs[attrLocationHint], AlarmWebhook: r.Attrs[attrAlarmWebhook],
		WebsocketHistory: WebsocketHistory(r)}
}

// WebsocketHistory is how many messages a namespace's rooms replay to a
// new socket (0 when unset or not a number, at most MaxWebsocketHistory).
func WebsocketHistory(r catalog.Resource) int {
	n, err := strconv.Atoi(r.Attrs[attrWebsocketHistory])
	if err != nil || n < 0 {
		return 0
	}
	return min(n, MaxWebsocketHistory)
}

// AlarmWebhook is the namespace's alarm webhook URL ("" when none).
func AlarmWebhook(r catalog.Resource) string { return r.Attrs[attrAlarmWebhook] }

// Limits of namespace attributes.
const (
	// MaxWebhookBytes bounds alarm_webhook.
	MaxWebhookBytes = 2048
	// MaxLocationHintBytes bounds location_hint (a region name).
	MaxLocationHintBytes = 64
	// MaxWebsocketHistory bounds websocket_history: what a room can keep.
	MaxWebsocketHistory = wsroom.MaxHistory
)

// validateAttrs checks a namespace's attributes: location_hint a region
// name, alarm_webhook an absolute http(s) URL, websocket_history an integer
// in [0, MaxWebsocketHistory].
func validateAttrs(attrs map[string]string) error {
	if v, ok := attrs[attrLocationHint]; ok && (v == "" || len(v) > MaxLocationHintBytes || strings.ContainsAny(v, "/ ")) {
		return fmt.Errorf("location_hint must be a region name of 1..%d bytes", MaxLocationHintBytes)
	}
	if v, ok := attrs[attrAlarmWebhook]; ok && v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return errors.New("alarm_webhook must be an absolute http or https URL without a fragment")
		}
	}
	if v, ok := attrs[attrWebsocketHistory]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxWebsocketHistory {
			return fmt.Errorf("websocket_history must be an integer in [0, %d]", MaxWebsocketHistory)
		}
	}
	return nil
}

// nsNotFoundMessage answers an unknown namespace, on the namespace routes
// (NamespaceKind) and the object routes alike.
const nsNotFoundMessage = "durable object namespace not found"

func nsNotFound() *api.HTTPError {
	return &api.HTTPError{Status: http.StatusNotFound, Code: api.CodeDONamespaceNotFound,
		Message: nsNotFoundMessage, Err: api.ErrNotFound}
}
