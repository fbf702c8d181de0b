package alarm

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	// DefaultBackoff is the wait after the first failed try; it doubles
	// after each further failure (2 s, 4 s, 8 s, 16 s, 32 s).
	DefaultBackoff = 2 * time.Second
	// DefaultMaxTries is how many times one scheduled alarm is tried in all
	// before the Scheduler gives up and clears it.
	DefaultMaxTries = 6
	// DefaultTimeout bounds one webhook call.
	DefaultTimeout = 10 * time.Second
	// DefaultScanInterval is how often the Scheduler looks for alarms of
	// objects this node came to own.
	DefaultScanInterval = time.Second
	// DefaultMaxConcurrent bounds the webhook calls in flight at once.
	DefaultMaxConcurrent = 32
	// MaxWebhookURL bounds the length of a webhook URL.
	MaxWebhookURL = 2048
)

// Config configures a Scheduler. The zero value of each field takes its
// default.
type Config struct {
	// NodeID names this node in deliveries and logs.
	NodeID string
	// Webhook returns the alarm webhook URL of a namespace, "" when it has
	// none.
	Webhook func(namespaceID string) string
	// Client sends the webhook calls; http.DefaultTransport with Timeout
	// when nil.
	Client *http.Client
	// Timeout bounds one webhook call (DefaultTimeout).
	Timeout time.Duration
	// Backoff is the wait after the first failed try (DefaultBackoff).
	Backoff time.Duration
	// MaxTries is the number of tries of one scheduled alarm (DefaultMaxTries).
	MaxTries int
	// ScanInterval is the period of the ownership scan (DefaultScanInterval).
	ScanInterval time.Duration
	// MaxConcurrent bounds the deliveries in flight (DefaultMaxConcurrent).
	MaxConcurrent int
	// Now is the clock (time.Now).
	Now func() time.Time
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger receives the scheduler's logs (slog.Default when nil).
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxTries <= 0 {
		c.MaxTries = DefaultMaxTries
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = DefaultScanInterval
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.Webhook == nil {
		return errors.New("alarm config: Webhook is required")
	}
	if c.MaxTries > 20 {
		return fmt.Errorf("alarm config: MaxTries %d over 20", c.MaxTries)
	}
	return nil
}

// ErrBadWebhook is an alarm webhook URL that cannot be called.
var ErrBadWebhook = errors.New("invalid alarm webhook")

// ValidateWebhook checks an alarm webhook URL: absolute http or https with a
// host, at most MaxWebhookURL bytes, no fragment. The empty string (no
// webhook) is valid.
func ValidateWebhook(raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > MaxWebhookURL {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadWebhook, MaxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme must be http or https, not %q", ErrBadWebhook, u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: no host", ErrBadWebhook)
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return fmt.Errorf("%w: fragment not allowed", ErrBadWebhook)
	}
	return nil
}
