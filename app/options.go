package app

import (
	"context"

	"github.com/flowsleuth/flowsleuth/app/message"
)

// Options configure the UI.
type Options struct {
	Version string
	// DemoDir holds the built-in demo workspace, made on first use when the
	// user has no workspace of their own.
	DemoDir string
	// DefaultWorkspace is the CLI's default workspace file.
	DefaultWorkspace string
	// Theme overrides the remembered theme for this run: "light", "dark"
	// or "system"; "" keeps the user's choice.
	Theme string
	// OpenStore opens a ClickHouse store the views can read conversations
	// from (store.go); nil: the app reads workspaces only.
	OpenStore func(ctx context.Context, url string) (ConversationSource, error)
	// Log is where errors are logged in full; nil: the default log
	// (message.DefaultLogPath).
	Log *message.Log
}
