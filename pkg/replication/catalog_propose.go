package replication

import (
	"context"
	"fmt"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// ProposeCatalog commits one catalog operation through propose (a node's
// Propose, or a service's Deps.Propose) and returns its result; a refusal
// recorded in the log comes back as an error wrapping catalog's sentinels.
// An operation without a time gets the proposer's clock.
func ProposeCatalog(ctx context.Context, propose func(context.Context, []byte) ([]byte, error), op catalog.Op) (catalog.Result, error) {
	if op.At.IsZero() {
		op.At = time.Now().UTC()
	}
	payload, err := op.Encode()
	if err != nil {
		return catalog.Result{}, err
	}
	out, err := propose(ctx, EncodeCommand(CommandCatalog, payload))
	if err != nil {
		return catalog.Result{}, fmt.Errorf("catalog %s: %w", op.Type, err)
	}
	res, err := catalog.DecodeResult(out)
	if err != nil {
		return res, err
	}
	return res, res.Err()
}
