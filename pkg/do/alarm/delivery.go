package alarm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Delivery is the JSON body POSTed to an alarm webhook.
type Delivery struct {
	// NamespaceID and ObjectID name the object.
	NamespaceID string `json:"namespace_id"`
	ObjectID    string `json:"object_id"`
	// ScheduledTime is the alarm time, ms since the Unix epoch.
	ScheduledTime int64 `json:"scheduled_time"`
	// RetryCount is the number of failed tries before this one (0 first).
	RetryCount int `json:"retry_count"`
	// IsRetry is RetryCount > 0.
	IsRetry bool `json:"is_retry"`
	// IdempotencyID is the same for every try of one scheduled alarm, on
	// every node: a webhook drops what it already handled.
	IdempotencyID string `json:"idempotency_id"`
	// Node is the node that sent the delivery.
	Node string `json:"node"`
}

// IdempotencyID identifies one scheduled alarm of one object: a hash of the
// object key and the alarm time.
func IdempotencyID(obj string, at int64) string {
	h := sha256.Sum256([]byte(obj + "@" + strconv.FormatInt(at, 10)))
	return hex.EncodeToString(h[:16])
}

// newDelivery builds the body of one try.
func newDelivery(ns, id string, at int64, retry int, node string) Delivery {
	return Delivery{
		NamespaceID: ns, ObjectID: id, ScheduledTime: at,
		RetryCount: retry, IsRetry: retry > 0,
		IdempotencyID: IdempotencyID(ns+"/"+id, at),
		Node:          node,
	}
}

// maxWebhookAnswer bounds how much of a webhook's answer is read.
const maxWebhookAnswer = 64 << 10

// post sends d to url within the configured timeout; any 2xx is a success.
func (s *Scheduler) post(ctx context.Context, url string, d Delivery) error {
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alarm webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", d.IdempotencyID)
	req.Header.Set("X-Edge-Alarm-Retry-Count", strconv.Itoa(d.RetryCount))
	start := time.Now()
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("alarm webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookAnswer))
	s.m.duration.Observe(time.Since(start).Seconds())
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("alarm webhook answered %s", resp.Status)
	}
	return nil
}
