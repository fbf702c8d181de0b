package do

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
)

// Errors of object execution, as HTTP envelopes.
var (
	// ErrNotOwner: this node may not serve the object now (another node
	// owns it, the lease is not valid, or the node is warming up after
	// registering). Nothing was done; retry.
	ErrNotOwner = &api.HTTPError{Status: http.StatusServiceUnavailable, Code: api.CodeDONotOwner,
		Message: "this node does not hold the durable object's lease now; retry", Err: api.ErrUnavailable}
	// ErrOverloaded: the object's input gate is full. Back off before
	// retrying.
	ErrOverloaded = &api.HTTPError{Status: http.StatusServiceUnavailable, Code: api.CodeDOOverloaded,
		Message: "durable object is overloaded: too many requests queued; back off before retrying", Err: api.ErrUnavailable}
	// ErrOutcomeUnknown: the lease ended or a newer owner took over while
	// the request ran; its writes may or may not be applied.
	ErrOutcomeUnknown = &api.HTTPError{Status: http.StatusServiceUnavailable, Code: api.CodeDOOutcomeUnknown,
		Message: "the durable object moved while the request ran; its writes may or may not be applied", Err: api.ErrUnavailable}
)

// errStopped ends an actor whose object this node no longer serves.
var errStopped = errors.New("durable object actor stopped")

// storeError maps an objstore error to the answer a client gets.
func storeError(err error) error {
	var he *api.HTTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return err
	case errors.Is(err, objstore.ErrSuperseded), errors.Is(err, objstore.ErrClosed):
		return fmt.Errorf("%w (%v)", ErrOutcomeUnknown, err)
	case errors.Is(err, objstore.ErrStorageFull):
		return &api.HTTPError{Status: http.StatusRequestEntityTooLarge, Code: api.CodeDOStorageFull,
			Message: "the write would take the object past its storage cap", Err: errors.Join(api.ErrBodyTooLarge, err)}
	case errors.Is(err, objstore.ErrInvalid):
		return &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeBadRequest, Message: err.Error(),
			Err: errors.Join(api.ErrBadRequest, err)}
	case errors.Is(err, objstore.ErrNoQuorum), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("durable object replicas: %w: %w", api.ErrUnavailable, err)
	}
	return err
}
