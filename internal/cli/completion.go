package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/config"
)

// Shell completion of flag values and arguments (hrsync completion bash,
// zsh, fish or powershell prints the script).

// completeValues completes a flag with fixed values, no file names.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completeFiles completes a flag or argument with files of these
// extensions (and folders).
func completeFiles(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// completeRoot registers the completions of the flags every command has.
func (a *app) completeRoot(root *cobra.Command) {
	completeValues(root, "log-format", "text", "json")
	completeValues(root, "log-level", "debug", "info", "warn", "error")
	_ = root.RegisterFlagCompletionFunc("config", completeFiles("yaml", "yml"))
}

// completeConfigFlags registers the completions of the flags that override
// configuration keys (see addConfigFlags).
func completeConfigFlags(cmd *cobra.Command) {
	completeValues(cmd, config.FlagName("target.type"), "entra", "sandbox", "active_directory")
	_ = cmd.RegisterFlagCompletionFunc(config.FlagName("target.state"), completeFiles("json"))
	_ = cmd.RegisterFlagCompletionFunc(config.FlagName("timeout"), cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc(config.FlagName("target.graph_url"), cobra.NoFileCompletions)
}

// completeKeys completes explain's KEY with the match keys of the source
// the configuration names, each with its display name.
func (a *app) completeKeys(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	e, err := a.engine(cmd)
	if err != nil {
		cobra.CompDebugln("explain keys: "+err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	keys, err := e.SourceKeys(ctx, prefix, 1000)
	if err != nil {
		cobra.CompDebugln("explain keys: "+err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	out := make([]cobra.Completion, len(keys))
	for i, k := range keys {
		out[i] = cobra.CompletionWithDesc(k.Key, k.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
