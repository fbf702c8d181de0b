package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Backend is what a Server needs from its node.
type Backend interface {
	// Info describes this node.
	Info() *edgev1.InfoResponse
	// Apply validates cmd, proposes it to Raft and waits for it to be
	// applied (Proposer.ApplyLocal). On a node that is not the leader it
	// returns a *consensus.NotLeaderError.
	Apply(ctx context.Context, cmd []byte) (index uint64, result []byte, err error)
	// ForwardHandler serves forwarded HTTP requests: the node's public HTTP
	// handler. Requests reach it marked with api.WithForwardedFrom, so its
	// routes serve them locally.
	ForwardHandler() http.Handler
	// WaitApplied blocks until this node applied the Raft log up to index.
	WaitApplied(ctx context.Context, index uint64) error
}

// catchUpWait bounds how long a forwarded request waits for this node to
// apply what the forwarding node had: past it, the request is served with
// what this node has (a node that far behind shows it in its lag metrics).
const catchUpWait = 2 * time.Second

// Server implements edgev1.NodeServer on top of a Backend.
type Server struct {
	edgev1.UnimplementedNodeServer

	backend Backend
	log     *slog.Logger
	now     func() time.Time
}

var _ edgev1.NodeServer = (*Server)(nil)

// NewServer returns a Server for b that logs to log (nil: discard).
func NewServer(b Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{backend: b, log: log.With("component", "router"), now: time.Now}
}

// Register registers s as the edge.v1.Node service of grpcServer, which
// should have been built with ServerOptions.
func (s *Server) Register(grpcServer *grpc.Server) {
	edgev1.RegisterNodeServer(grpcServer, s)
}

// Info implements edgev1.NodeServer.
func (s *Server) Info(_ context.Context, _ *edgev1.InfoRequest) (*edgev1.InfoResponse, error) {
	info := s.backend.Info()
	if info == nil {
		return nil, status.Error(codes.Unavailable, "node info not available yet")
	}
	return info, nil
}

// Ping implements edgev1.NodeServer.
func (s *Server) Ping(_ context.Context, req *edgev1.PingRequest) (*edgev1.PingResponse, error) {
	return &edgev1.PingResponse{
		Payload:         req.GetPayload(),
		ServerUnixNanos: s.now().UnixNano(),
		NodeId:          s.nodeID(),
	}, nil
}

// Forward implements edgev1.NodeServer: it serves the request through the
// backend's ForwardHandler, marked as forwarded so it goes no further.
func (s *Server) Forward(ctx context.Context, req *edgev1.ForwardRequest) (*edgev1.ForwardResponse, error) {
	if req.GetOriginNode() == "" {
		return nil, status.Error(codes.InvalidArgument, "forward: origin_node is required")
	}
	if err := checkOrigin(ctx, "forward", req.GetOriginNode()); err != nil {
		return nil, err
	}
	ctx, note := withIndexNote(api.WithForwardedFrom(ctx, req.GetOriginNode()))
	httpReq, err := http.NewRequestWithContext(ctx, req.GetMethod(), req.GetPath(), bytes.NewReader(req.GetBody()))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "forward: bad request: %v", err)
	}
	// NewRequest parses the path as a URL; keep the raw request URI too.
	httpReq.RequestURI = req.GetPath()
	httpReq.Host = req.GetHost()
	headersFromProto(httpReq.Header, req.GetHeaders())
	httpReq.ContentLength = int64(len(req.GetBody()))
	httpReq.Header.Set(HeaderForwardedFrom, req.GetOriginNode())
	if id := req.GetRequestId(); id != "" {
		httpReq.Header.Set(HeaderRequestID, id)
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		httpReq.RemoteAddr = p.Addr.String()
	}
	s.catchUp(ctx, httpReq.Header, req)

	mw := newMemWriter(MaxMessageBytes - 1<<20)
	s.backend.ForwardHandler().ServeHTTP(mw, httpReq)
	if mw.overrun {
		s.log.Warn("forwarded response too large",
			"request_id", req.GetRequestId(), "origin", req.GetOriginNode(), "path", req.GetPath())
		return nil, status.Error(codes.ResourceExhausted, "forward: response above size limit")
	}
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	s.log.Debug("served forwarded request", "request_id", req.GetRequestId(),
		"origin", req.GetOriginNode(), "service", req.GetService(), "reason", req.GetReason(),
		"method", req.GetMethod(), "status", mw.statusCode())
	if idx := note.header(); idx != "" {
		mw.header.Set(headerRaftIndex, idx)
	}
	return &edgev1.ForwardResponse{
		Status:   int32(mw.statusCode()),
		Headers:  headersToProto(mw.header),
		Body:     mw.body,
		ServedBy: s.nodeID(),
	}, nil
}

// catchUp waits, briefly, until this node applied the Raft index the
// forwarding node had (headerAppliedIndex), and removes the header.
func (s *Server) catchUp(ctx context.Context, h http.Header, req *edgev1.ForwardRequest) {
	raw := h.Get(headerAppliedIndex)
	h.Del(headerAppliedIndex)
	index, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || index == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	if err := s.backend.WaitApplied(ctx, index); err != nil {
		s.log.Debug("forwarded request served before this node caught up", "request_id", req.GetRequestId(),
			"origin", req.GetOriginNode(), "index", index, "err", err)
	}
}

// Apply implements edgev1.NodeServer.
func (s *Server) Apply(ctx context.Context, req *edgev1.ApplyRequest) (*edgev1.ApplyResponse, error) {
	if err := checkOrigin(ctx, "apply", req.GetOriginNode()); err != nil {
		return nil, err
	}
	// The origin is the caller's certificate's node id under mutual TLS
	// (checkOrigin): state machines check commands against it.
	index, result, err := s.backend.Apply(withProposer(ctx, req.GetOriginNode()), req.GetCommand())
	if err != nil {
		st := applyErrorStatus(err)
		if st.Code() != codes.FailedPrecondition {
			s.log.Warn("apply failed", "request_id", req.GetRequestId(),
				"origin", req.GetOriginNode(), "err", err)
		}
		return nil, st.Err()
	}
	return &edgev1.ApplyResponse{Index: index, Result: result}, nil
}

// checkOrigin refuses a request whose origin_node is not the node whose
// certificate the caller presented. Without mutual TLS the caller has no
// verified identity and the origin is taken as given.
func checkOrigin(ctx context.Context, rpc, origin string) error {
	caller, ok := tlsutil.CallerNodeID(ctx)
	if !ok || caller == origin {
		return nil
	}
	return status.Errorf(codes.PermissionDenied, "%s: origin_node %q is not the caller %q", rpc, origin, caller)
}

// nodeID is this node's id, empty if the backend has no info yet.
func (s *Server) nodeID() string {
	return s.backend.Info().GetNodeId()
}

// applyErrorStatus maps a Backend.Apply error to the status sent on the wire.
func applyErrorStatus(err error) *status.Status {
	if errors.Is(err, consensus.ErrNotLeader) {
		return notLeaderStatus(err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return status.FromContextError(err)
	}
	if errors.Is(err, consensus.ErrOutcomeUnknown) {
		return status.New(codes.Aborted, outcomeUnknownMessage)
	}
	return status.New(codes.Internal, fmt.Sprintf("apply: %v", err))
}
