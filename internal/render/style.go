package render

import (
	"fmt"
	"strings"
)

// Style is how the text renderers mark up what they write. The zero Style
// writes plain text: for files, pipes, golden files and NO_COLOR.
type Style struct {
	// Color colours plans and reports with ANSI escapes, for a terminal:
	// + green, ~ yellow, - red, problems red, notes yellow.
	Color bool
}

// ANSI colours and attributes.
const (
	colorRed    = "31"
	colorGreen  = "32"
	colorYellow = "33"
	styleBold   = "1"
	styleDim    = "2"
)

// paint wraps text in an ANSI colour when the style has colour. Values
// from HR or the directory never carry escapes of their own (see clean).
func (s Style) paint(code, text string) string {
	if !s.Color || code == "" || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// symbolColor is the colour of a plan symbol: + green, ~ yellow, - red,
// = dim.
func symbolColor(sym string) string {
	switch sym {
	case "+":
		return colorGreen
	case "-":
		return colorRed
	case "~":
		return colorYellow
	case "=":
		return styleDim
	}
	return ""
}

// cprintf is printf in a colour: the text between the leading spaces and
// the trailing newline is painted, so indentation and line ends stay
// plain.
func (e *errWriter) cprintf(code, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	body := strings.TrimRight(text, "\n")
	end := text[len(body):]
	trimmed := strings.TrimLeft(body, " ")
	e.printf("%s%s%s", body[:len(body)-len(trimmed)], e.st.paint(code, trimmed), end)
}
