package cli

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/graphsim"
)

func (a *app) sandboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "The sandbox tenant: a local Microsoft Graph emulator",
	}
	var state, seed, listen, token string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the sandbox tenant over HTTP until interrupted",
		Long: `serve runs the Graph emulator standalone, backed by a JSON state file, so any Graph
client (hrsync with target.type entra and auth access_token, curl, scripts) can use it.
State is saved shortly after each change and on exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state == "" {
				return errors.New("--state is required: the JSON file that holds the sandbox tenant")
			}
			srv, err := graphsim.New(graphsim.Options{StatePath: state, SeedPath: seed, Token: token, Logger: a.log, AutosaveInterval: time.Second})
			if err != nil {
				return err
			}
			base, err := srv.Start(listen)
			if err != nil {
				return fmt.Errorf("listen %s: %w", listen, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(a.ios.ErrOut, "Sandbox tenant serving Microsoft Graph at %s/v1.0 (state %s). Ctrl-C stops it.\n", base, state)
			fmt.Fprintf(a.ios.ErrOut, "Point hrsync at it with target.type: entra, target.graph_url: %s, target.auth: access_token and HRSYNC_ACCESS_TOKEN set to %s.\n",
				base, tokenHint(token))
			<-ctx.Done()
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Close(shut); err != nil {
				return fmt.Errorf("save sandbox state: %w", err)
			}
			fmt.Fprintln(a.ios.ErrOut, "Sandbox stopped; state saved.")
			return nil
		},
	}
	serve.Flags().StringVar(&state, "state", "", "JSON state file of the tenant (created if missing)")
	serve.Flags().StringVar(&seed, "seed", "", "JSON state to start from when --state does not exist yet")
	serve.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (loopback only is wise)")
	serve.Flags().StringVar(&token, "token", "", "require this bearer token (default: any non-empty token)")
	cmd.AddCommand(serve)
	return cmd
}

func tokenHint(token string) string {
	if token == "" {
		return "any value"
	}
	return "the --token value"
}
