package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/plan"
)

func (a *app) validateCmd() *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config, the mapping and the source without contacting the tenant",
		Long: `validate loads the configuration and the mapping, reads the whole source and maps
every record. It reports records that would be left out of a plan (duplicate keys,
failing expressions) with their lines. No tenant is contacted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.engine(cmd)
			if err != nil {
				return err
			}
			src, err := e.ReadSource(cmd.Context())
			if err != nil {
				return err
			}
			p, err := e.Validate(src)
			if err != nil {
				return err
			}
			var warnings []plan.Warning
			for _, w := range p.Warnings {
				// Whether a manager exists depends on the tenant, which
				// validate does not read.
				if w.Code != plan.WarnManagerNotFound && w.Code != plan.WarnManagerUnresolved {
					warnings = append(warnings, w)
				}
			}
			out := a.ios.Out
			fmt.Fprintf(out, "config:  %s\n", orNone(e.Cfg.File))
			fmt.Fprintf(out, "mapping: %s (%d attributes, match %s -> %s)\n", e.Mapping.File, len(e.Mapping.Attrs), e.Mapping.Match.Source.Source(), e.Mapping.Match.Target.Name)
			fmt.Fprintf(out, "source:  %s (%d records, %d columns)\n", src.Name, src.Summary.Records, len(src.Summary.Header))
			for _, w := range warnings {
				fmt.Fprintf(out, "  ! %s %s: %s\n", w.Code, w.Key, w.Message)
			}
			unusable := len(src.Rejected) + countDup(p)
			fmt.Fprintf(out, "%d records map cleanly, %d cannot be used (duplicate keys or mapping errors), %d warnings.\n",
				src.Summary.Records-unusable, unusable, len(warnings))
			if strict && len(warnings) > 0 {
				return &exitError{code: ExitError, err: fmt.Errorf("%d warnings and --strict was given", len(warnings))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "fail (exit 1) when any record has a problem")
	addConfigFlags(cmd.Flags())
	completeConfigFlags(cmd)
	return cmd
}

func countDup(p *plan.Plan) int {
	n := 0
	for _, w := range p.Warnings {
		if w.Code == plan.WarnDuplicateKey {
			n += len(w.Sources)
		}
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "(none; environment and defaults)"
	}
	return s
}
