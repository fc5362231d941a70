package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/render"
)

// validateOptions are validate's flags.
type validateOptions struct {
	strict bool
	format string
}

func (a *app) validateCmd() *cobra.Command {
	var o validateOptions
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config, the mapping and the source without contacting the tenant",
		Long: `validate loads the configuration and the mapping, reads the whole source and maps
every record. It reports records that would be left out of a plan (duplicate keys,
failing expressions) with their lines, as unresolved problems or notes. No tenant is
contacted, so it knows no user: a value two records map is reported as theirs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runValidate(cmd, o)
		},
	}
	cmd.Flags().BoolVar(&o.strict, "strict", false, "fail (exit 1) when any record has a problem or a note")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	completeValues(cmd, "format", "text", "json")
	addConfigFlags(cmd.Flags())
	completeConfigFlags(cmd)
	return cmd
}

// runValidate asks the engine to check the inputs and renders the result.
func (a *app) runValidate(cmd *cobra.Command, o validateOptions) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("unknown format %q; use text or json", o.format)
	}
	e, err := a.engine(cmd)
	if err != nil {
		return err
	}
	v, err := e.Check(cmd.Context())
	if err != nil {
		return err
	}
	if o.format == "json" {
		err = writeJSON(a.ios.Out, v)
	} else {
		err = renderValidation(a.ios.Out, v)
	}
	if err != nil {
		return err
	}
	if n := len(v.Warnings); o.strict && n > 0 {
		return &exitError{code: ExitError, err: fmt.Errorf("%s and --strict was given", render.Count(n, "warning", "warnings"))}
	}
	return nil
}

// renderValidation writes a validation as text.
func renderValidation(w io.Writer, v *engine.Validation) error {
	config := v.Config
	if config == "" {
		config = "(none; environment and defaults)"
	}
	_, err := fmt.Fprintf(w, "config:  %s\nmapping: %s (%d attributes, match %s -> %s)\nsource:  %s (%d records, %d columns)\n",
		config, v.Mapping.File, v.Mapping.Attributes, v.Mapping.MatchSource, v.Mapping.MatchTarget, v.Source.Name, v.Source.Records, v.Source.Columns)
	for _, wn := range v.Warnings {
		if err == nil {
			_, err = fmt.Fprintf(w, "  ! %s %s (%s): %s\n", wn.Code, wn.Key, wn.Severity, wn.Message)
		}
	}
	if err == nil {
		_, err = fmt.Fprintf(w, "%d records map cleanly, %d cannot be used (duplicate keys or mapping errors); %s, %s.\n",
			v.Clean, v.Unusable, render.Count(v.Problems, "unresolved problem", "unresolved problems"), render.Count(v.Notes, "note", "notes"))
	}
	return err
}
