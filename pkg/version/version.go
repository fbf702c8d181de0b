// Package version holds the build's version string, set at link time with
// -ldflags "-X github.com/edgeplane/edgeplane/pkg/version.Version=v1.2.3".
package version

// Version is the release of this build; "dev" for untagged builds.
var Version = "dev"
