package authz

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	kvRead  = "8b47d2786a534c08a1f94ee8f9f599ef"
	kvWrite = "f7f0eda5697f475c90846e879bab8666"
	d1Read  = "192192df92ee43ac90f2aeeffce67e35"
	tokRead = "0cc3a61731504c89b99ec1be78b77aa0"
	admin   = "73728b8af7ef08ad87e3e451e7ec6600"
)

// cloudflareBody is a POST /user/tokens body as Cloudflare documents it.
const cloudflareBody = `{
  "name": "readonly token",
  "policies": [
    {
      "effect": "allow",
      "resources": {"com.cloudflare.api.account.eb78d65290b24279ba6f44721b3ea3c4": "*"},
      "permission_groups": [
        {"id": "8b47d2786a534c08a1f94ee8f9f599ef", "name": "Workers KV Storage Read"},
        {"id": "192192df92ee43ac90f2aeeffce67e35"}
      ]
    }
  ],
  "not_before": "2026-01-01T00:00:00Z",
  "expires_on": "2027-01-01T00:00:00Z",
  "condition": {"request_ip": {"in": ["192.0.2.0/24", "2001:db8::/32"], "not_in": ["192.0.2.1/32"]}}
}`

func TestDecodeCloudflareBody(t *testing.T) {
	tok, err := DecodeToken([]byte(cloudflareBody))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "readonly token" || len(tok.Policies) != 1 || len(tok.Policies[0].PermissionGroups) != 2 {
		t.Fatalf("decoded %+v", tok)
	}
	if !tok.NotBefore.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || !tok.ExpiresOn.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("times %v %v", tok.NotBefore, tok.ExpiresOn)
	}
	if got := tok.Condition.RequestIP.NotIn; len(got) != 1 || got[0] != "192.0.2.1/32" {
		t.Fatalf("not_in %v", got)
	}
	// Round trip: the JSON written has Cloudflare's field names.
	out, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"name"`, `"policies"`, `"effect"`, `"resources"`, `"permission_groups"`, `"not_before"`, `"expires_on"`, `"condition"`, `"request_ip"`, `"in"`, `"not_in"`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("encoded token lacks %s: %s", field, out)
		}
	}
	again, err := DecodeToken(out)
	if err != nil {
		t.Fatalf("re-decode: %v", err)
	}
	if again.Policies[0].Resources["com.cloudflare.api.account.eb78d65290b24279ba6f44721b3ea3c4"] != "*" {
		t.Fatalf("round trip lost the resource: %+v", again)
	}
}

func TestValidate(t *testing.T) {
	base := func() *Token {
		return &Token{Name: "t", Policies: []Policy{{
			Effect:           Allow,
			Resources:        map[string]string{AccountResource("acc1"): "*"},
			PermissionGroups: []GroupRef{{ID: kvRead}},
		}}}
	}
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		edit  func(*Token)
		field string // "" means valid
		msg   string
	}{
		{"valid", func(*Token) {}, "", ""},
		{"all accounts", func(t *Token) { t.Policies[0].Resources = map[string]string{AllAccounts: "*"} }, "", ""},
		{"deny", func(t *Token) { t.Policies[0].Effect = Deny }, "", ""},
		{"cluster admin", func(t *Token) {
			t.Policies[0].Resources = map[string]string{ClusterResource: "*"}
			t.Policies[0].PermissionGroups = []GroupRef{{ID: admin, Name: "Cluster Admin"}}
		}, "", ""},
		{"mixed scopes", func(t *Token) {
			t.Policies[0].Resources[UserResource("*")] = "*"
			t.Policies[0].PermissionGroups = append(t.Policies[0].PermissionGroups, GroupRef{ID: tokRead})
		}, "", ""},
		{"bare IP in condition", func(t *Token) { t.Condition = &Condition{RequestIP: &IPCondition{In: []string{"10.0.0.1", "::1"}}} }, "", ""},
		{"no name", func(t *Token) { t.Name = " " }, "name", "required"},
		{"no policies", func(t *Token) { t.Policies = nil }, "policies", "at least one"},
		{"bad effect", func(t *Token) { t.Policies[0].Effect = "maybe" }, "policies[0].effect", "not allow or deny"},
		{"no effect", func(t *Token) { t.Policies[0].Effect = "" }, "policies[0].effect", "not allow or deny"},
		{"unknown group", func(t *Token) { t.Policies[0].PermissionGroups[0].ID = "0123456789abcdef0123456789abcdef" }, "policies[0].permission_groups[0].id", "unknown permission group"},
		{"group name mismatch", func(t *Token) { t.Policies[0].PermissionGroups[0].Name = "D1 Write" }, "policies[0].permission_groups[0].name", "named"},
		{"no groups", func(t *Token) { t.Policies[0].PermissionGroups = nil }, "policies[0].permission_groups", "at least one"},
		{"no resources", func(t *Token) { t.Policies[0].Resources = nil }, "policies[0].resources", "at least one"},
		{"resource value", func(t *Token) { t.Policies[0].Resources[AccountResource("acc1")] = "read" }, `policies[0].resources["com.cloudflare.api.account.acc1"]`, `want "*"`},
		{"unknown resource", func(t *Token) { t.Policies[0].Resources = map[string]string{"com.example.thing": "*"} }, `policies[0].resources["com.example.thing"]`, "unknown resource"},
		{"bare star resource", func(t *Token) { t.Policies[0].Resources = map[string]string{"*": "*"} }, `policies[0].resources["*"]`, "unknown resource"},
		{"empty account", func(t *Token) { t.Policies[0].Resources = map[string]string{"com.cloudflare.api.account.": "*"} }, `policies[0].resources["com.cloudflare.api.account."]`, "account id"},
		{"account wildcard prefix", func(t *Token) { t.Policies[0].Resources = map[string]string{"com.cloudflare.api.account.ab*": "*"} }, `policies[0].resources["com.cloudflare.api.account.ab*"]`, "account id"},
		{"zone", func(t *Token) {
			t.Policies[0].Resources = map[string]string{"com.cloudflare.api.account.zone.abc": "*"}
		}, `policies[0].resources["com.cloudflare.api.account.zone.abc"]`, "zone resources"},
		{"resource of no group's scope", func(t *Token) { t.Policies[0].Resources[UserResource("u")] = "*" }, `policies[0].resources["com.cloudflare.api.user.u"]`, "no permission group"},
		{"group without its resource", func(t *Token) {
			t.Policies[0].PermissionGroups = append(t.Policies[0].PermissionGroups, GroupRef{ID: tokRead})
		}, "policies[0].resources", `"API Tokens Read" needs a com.cloudflare.api.user resource`},
		{"cluster group on an account", func(t *Token) { t.Policies[0].PermissionGroups = []GroupRef{{ID: admin}} }, `policies[0].resources["com.cloudflare.api.account.acc1"]`, "no permission group"},
		{"bad CIDR", func(t *Token) { t.Condition = &Condition{RequestIP: &IPCondition{In: []string{"10.0.0.0/33"}}} }, "condition.request_ip.in[0]", "not a CIDR"},
		{"bad not_in", func(t *Token) {
			t.Condition = &Condition{RequestIP: &IPCondition{NotIn: []string{"10.0.0.0/8", "nope"}}}
		}, "condition.request_ip.not_in[1]", "not a CIDR"},
		{"expires before not_before", func(t *Token) { nb, ex := t0, t0.Add(-time.Hour); t.NotBefore, t.ExpiresOn = &nb, &ex }, "expires_on", "not after not_before"},
		{"expires at not_before", func(t *Token) { nb := t0; t.NotBefore, t.ExpiresOn = &nb, &nb }, "expires_on", "not after not_before"},
		{"bad status", func(t *Token) { t.Status = "paused" }, "status", "not active"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := base()
			c.edit(tok)
			err := Validate(tok)
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid token refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			if ve.Field != c.field || !strings.Contains(ve.Message, c.msg) {
				t.Fatalf("Validate = field %q message %q; want field %q containing %q", ve.Field, ve.Message, c.field, c.msg)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		`{"name":"t","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.a":{"com.cloudflare.api.account.zone.*":"*"}},"permission_groups":[{"id":"` + kvRead + `"}]}]}`: "nested resources",
		`{"name":"t","policies":[],"expires_on":"tomorrow"}`: "RFC 3339",
		`{"name":"t"} {"name":"u"}`:                          "after the token",
		`{"name":`:                                           "malformed",
		`{"name":"t","policies":"all"}`:                      "wrong JSON type",
		`{"name":"t","policies":[]}`:                         "at least one policy",
	}
	for body, want := range cases {
		if _, err := DecodeToken([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeToken(%s) = %v, want %q", body, err, want)
		}
	}
	if _, err := DecodeToken(make([]byte, MaxTokenJSON+1)); err == nil {
		t.Error("oversized body accepted")
	}
}

func FuzzDecodeToken(f *testing.F) {
	f.Add([]byte(cloudflareBody))
	f.Add([]byte(`{"name":"a","policies":[{"effect":"deny","resources":{"com.edgeplane.api.cluster":"*"},"permission_groups":[{"id":"` + admin + `"}]}]}`))
	f.Add([]byte(`{"name":"a","status":"disabled","policies":[{"effect":"allow","resources":{"com.cloudflare.api.user.*":"*"},"permission_groups":[{"id":"` + tokRead + `"}]}],"condition":{"request_ip":{"in":["::/0"]}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := DecodeToken(data)
		if err != nil {
			return
		}
		// A token that decodes is valid, evaluates without panicking and
		// survives a round trip.
		if err := Validate(tok); err != nil {
			t.Fatalf("decoded token fails Validate: %v", err)
		}
		for _, p := range Permissions() {
			_ = Allowed(tok, Request{Account: "acc", User: "u", Permission: p, ClientIP: []byte{127, 0, 0, 1}})
		}
		out, err := json.Marshal(tok)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeToken(out); err != nil {
			t.Fatalf("round trip of %s: %v", out, err)
		}
	})
}
