package tlsutil

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// ServerCredentials are gRPC server transport credentials from
// ServerConfig: every caller must present a cluster certificate. Use with
// grpc.Creds, together with RequireMember.
func (r *Reloader) ServerCredentials() credentials.TransportCredentials {
	return credentials.NewTLS(r.ServerConfig())
}

// ClientCredentials are gRPC client transport credentials from
// ClientConfig(expectNodeID). Use with grpc.WithTransportCredentials; pass
// the target's node id when the connection is for one known node.
func (r *Reloader) ClientCredentials(expectNodeID string) credentials.TransportCredentials {
	return credentials.NewTLS(r.ClientConfig(expectNodeID))
}

type callerKey struct{}

// CallerNodeID returns the node id of the gRPC caller: the value
// RequireMember stored, else the verified certificate of the peer in ctx.
func CallerNodeID(ctx context.Context) (string, bool) {
	if id, ok := ctx.Value(callerKey{}).(string); ok {
		return id, true
	}
	id, err := peerIdentity(ctx)
	if err != nil || !id.IsNode() {
		return "", false
	}
	return id.Name, true
}

// peerIdentity is the verified identity of the gRPC peer in ctx.
func peerIdentity(ctx context.Context) (Identity, error) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return Identity{}, ErrUnverifiedPeer
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return Identity{}, ErrUnverifiedPeer
	}
	return PeerIdentity(info.State)
}

// authorize admits callers holding a verified node certificate whose node
// is a current member. It returns the context to go on with (carrying the
// caller's node id) or a gRPC status error: Unauthenticated without a
// verified certificate, PermissionDenied for a non-node or non-member.
func authorize(ctx context.Context, isMember func(string) bool) (context.Context, error) {
	id, err := peerIdentity(ctx)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, "a cluster certificate is required")
	}
	if !id.IsNode() {
		return nil, status.Errorf(codes.PermissionDenied, "%s is not a node", id)
	}
	if isMember == nil || !isMember(id.Name) {
		return nil, status.Errorf(codes.PermissionDenied, "node %q is not a member of this cluster", id.Name)
	}
	return context.WithValue(ctx, callerKey{}, id.Name), nil
}

// UnaryRequireMember is the unary half of RequireMember.
func UnaryRequireMember(isMember func(nodeID string) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authorize(ctx, isMember)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamRequireMember is the streaming half of RequireMember.
func StreamRequireMember(isMember func(nodeID string) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authorize(ss.Context(), isMember)
		if err != nil {
			return err
		}
		return handler(srv, &callerStream{ServerStream: ss, ctx: ctx})
	}
}

// RequireMember returns the server options that refuse every RPC whose
// caller does not hold a verified node certificate (Unauthenticated) or
// whose node id isMember rejects (PermissionDenied). isMember must be fast
// and safe for concurrent use; nil refuses everyone. Handlers read the
// caller with CallerNodeID.
func RequireMember(isMember func(nodeID string) bool) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(UnaryRequireMember(isMember)),
		grpc.ChainStreamInterceptor(StreamRequireMember(isMember)),
	}
}

type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }
