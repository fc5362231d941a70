// Package expr implements the Microsoft Entra attribute-mapping expression
// language ("Reference for writing expressions for attribute mappings in
// Microsoft Entra ID") used by hrsync mapping files.
//
// # Syntax
//
// An expression is one of
//
//	[Field Name]            a source field; everything up to the next "]" is the name
//	"text"                  a string constant; \" is a quote and \\ a backslash
//	42, -7, 1.5, &HFF       a number constant (held as its decimal string: "42")
//	Name(arg, , arg)        a function call; names are case-insensitive and an
//	                        argument may be left out (Entra's "Replace([x], , ...)")
//	a = b, a <> b, a < b, a <= b, a > b, a >= b
//	                        a comparison, yielding a boolean (IIF conditions)
//	True, False, vbTextCompare, vbBinaryCompare
//	                        the only bare words that are accepted
//
// Whitespace, including line breaks, may appear between tokens. Comparisons
// do not chain ("a = b = c" is a syntax error); Entra has no AND / OR: nest
// IIF instead.
//
// # Values
//
// A [Value] is null, a string, a boolean, a list of strings (multi-valued,
// from Split) or a date-time (from CDate, Now, DateAdd, DateFromNum). Numbers
// are strings of digits, as in Entra. A field the source does not have
// (Env.Field reports present=false) is null; a field that is present but
// empty is the empty string. The difference matters: Coalesce skips only
// nulls, while Join skips both nulls and empty strings, exactly as Entra
// documents.
//
// # Where this differs from Entra
//
//   - Comparisons read null as "": IIF([country]="", ...) works here, while
//     Microsoft documents it as unsupported (prefer Switch for portability).
//     "=" and "<>" compare strings exactly; "<", ">" ... compare numerically
//     when both sides are numbers.
//   - Positions and lengths (Mid, Left, InStr) count Unicode code points,
//     not UTF-16 code units.
//   - Regular expressions (Replace) use Go's RE2: .NET named groups work, but
//     look-around and back-references do not.
//   - FormatDateTime ignores dateTimeStyles; input without a date part reads
//     as 0001-01-01 (not today).
//   - Date-times are limited to years 1 to 9999, as .NET's DateTime: CDate
//     and FormatDateTime refuse other years and DateAdd reports a result
//     outside them as an error.
//   - Redact anywhere in an expression marks the whole result redacted
//     ([Value.Redacted]), not just the part it wraps.
//   - Behaviour Microsoft does not document is chosen and written down on
//     each function (e.g. Append with a null source, Split of "").
//
// # Use
//
// Parse once with [Parse] and evaluate many times with [Program.Eval] or,
// when the expression needs a clock, randomness or a uniqueness check
// (Now, Guid, RandomString, SelectUniqueValue), with [Program.EvalWith].
// A Program is immutable and safe for concurrent use.
package expr
