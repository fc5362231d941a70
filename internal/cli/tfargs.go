package cli

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hrsync/hrsync/internal/suggest"
)

// terraformArgs rewrites terraform's single-dash spellings of hrsync's long
// flags (-out=plan.json, -out plan.json, -detailed-exitcode, -auto-approve,
// -format json) to the double-dash form before cobra parses them. pflag
// reads a single dash as shorthand flags, so -out=plan.json would be -o
// with the value "ut=plan.json": a file hrsync would write without a word.
//
// Only an argument whose name is a long flag of the command being run (its
// own, or one it inherits) is rewritten; flag values and everything after
// "--" are left alone. An argument that names no long flag but that pflag
// would read as a shorthand taking the rest as its value, "=" included
// (-outfile=plan.json: -o "utfile=plan.json"), is refused.
func terraformArgs(root *cobra.Command, args []string) ([]string, error) {
	root.InitDefaultVersionFlag()
	cmd := root
	cmd.InitDefaultHelpFlag()
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...), nil
		case !strings.HasPrefix(a, "-") || a == "-":
			if sub := subcommand(cmd, a); sub != nil {
				cmd = sub
				cmd.InitDefaultHelpFlag()
			}
			out = append(out, a)
			continue
		}
		var f *pflag.Flag
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case strings.HasPrefix(a, "--"):
			f = cmd.Flags().Lookup(name)
		case len(name) == 1:
			f = cmd.Flags().ShorthandLookup(name)
		default:
			if f = cmd.Flags().Lookup(name); f != nil {
				a = "-" + a // terraform's -name: the long flag --name
			} else if err := shorthandTrap(cmd, a, name, inline); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
		if f != nil && !inline && f.NoOptDefVal == "" && i+1 < len(args) {
			i++ // the flag's value, whatever it looks like
			out = append(out, args[i])
		}
	}
	return out, nil
}

// subcommand is cmd's subcommand called name (or one of its aliases).
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// shorthandTrap refuses a single-dash argument that names no long flag but
// that pflag would read as a shorthand flag taking the rest as its value,
// when that rest holds an "=" or the name is a long flag's misspelling:
// -outfile=plan.json would write the file "utfile=plan.json", -outt the
// file "utt". -oplan.json stays -o plan.json.
func shorthandTrap(cmd *cobra.Command, arg, name string, inline bool) error {
	f := cmd.Flags().ShorthandLookup(name[:1])
	if f == nil || f.NoOptDefVal != "" {
		return nil
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	closest := suggest.Closest(name, names, 3)
	if !inline && closest == "" {
		return nil
	}
	hint := fmt.Sprintf("write --%s=VALUE or -%s VALUE", f.Name, f.Shorthand)
	if c := cmp.Or(closest, suggest.Closest(name, names, 5)); c != "" {
		hint = fmt.Sprintf("did you mean --%s? (%s)", c, hint)
	}
	return fmt.Errorf("%s: %s has no flag --%s, and a single dash would make it -%s with the value %q; %s",
		arg, cmd.CommandPath(), name, f.Shorthand, strings.TrimPrefix(arg, "-"+f.Shorthand), hint)
}
